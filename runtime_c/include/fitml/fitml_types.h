/**
 * @file fitml_types.h
 * @brief Status codes, shapes and the constant parameter structs of every fitml kernel.
 *
 * Every kernel takes one `const` parameter struct. fitml fills these at compile time (Python,
 * toolchain/backends/cparams.py): multipliers, shifts, zero points, clamp bounds, padding and
 * strides are already integers here, so kernels do no float math to set themselves up.
 *
 * Conventions:
 * - Layout is NHWC (TFLite). Dims are int32_t.
 * - A requantization shift is TFLite's: positive = left shift, negative = right shift.
 * - Zero points are stored as zero points (not negated "offsets").
 * - int8 conv/depthwise/FC `bias` arrays are "folded": bias[c] - input_zp * sum(filter[c]),
 *   wrapped to int32. Padded taps then read input_zp, so inner loops multiply raw int8 data.
 *
 * Keep toolchain/backends/cruntime.py STRUCTS in step with this file (a test compares them).
 */
#ifndef FITML_TYPES_H
#define FITML_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "fitml_config.h"

/** @brief Result of every kernel. */
typedef enum {
    FITML_OK = 0,              /**< done */
    FITML_ERR_ARGUMENT = 1,    /**< NULL pointer, negative size or inconsistent parameters */
    FITML_ERR_UNSUPPORTED = 2, /**< valid request this runtime cannot do (e.g. rank > 6) */
    FITML_ERR_SCRATCH = 3      /**< the kernel needs scratch memory and got NULL */
} fitml_status;

/** @brief A 4-D NHWC shape (filters: [C_out, KH, KW, C_in] read as n, h, w, c). */
typedef struct {
    int32_t n, h, w, c;
} fitml_dims;

/** @brief Geometry of a 2-D convolution (regular or depthwise). */
typedef struct {
    fitml_dims input;           /**< N, H, W, C_in */
    fitml_dims filter;          /**< C_out, KH, KW, C_in/groups (depthwise: 1, KH, KW, C_out) */
    fitml_dims output;          /**< N, OH, OW, C_out */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;       /**< leading (top, left) padding; any odd extra is at the end */
} fitml_conv_geom;

/** @brief Per-channel (or per-tensor) requantization: MBQM(acc, multiplier, shift). */
typedef struct {
    const int32_t *multiplier;  /**< Q0.31 multipliers in [2^30, 2^31) (or 0) */
    const int32_t *shift;       /**< TFLite shifts, positive = left */
    int32_t per_channel;        /**< nonzero: index by output channel; 0: use entry 0 */
} fitml_requant;

/**
 * @brief Optional per-channel records of the DSP kernels' fast requantization:
 *        {acc_init, multiplier, round, right_shift} (FITML_FAST_REQUANT int32 each).
 *
 * With a = 2 * acc (acc << 1, or filter and acc_init pre-doubled in the int16 layouts),
 * out = clamp((SMMLAR(a, multiplier, round) + (a >> 31)) >> right_shift), where
 * round = 2^(right_shift-1) + output_zp * 2^right_shift. This equals MBQM + output_zp exactly
 * when no step overflows: Python emits the records only after proving that from the weights
 * (|acc| < 2^30 for every int8 input, right_shift >= 1), else NULL (exact MBQM path).
 */
#define FITML_FAST_REQUANT 4

/** @brief CONV_2D int8 (groups = input.c / filter.c). */
typedef struct {
    fitml_conv_geom geom;
    const int8_t *filter;       /**< [C_out][KH][KW][C_in/groups] */
    const int32_t *bias;        /**< folded bias [C_out], never NULL */
    fitml_requant requant;
    int32_t input_zp;           /**< value of padded taps */
    int32_t output_zp;
    int32_t act_min, act_max;   /**< fused activation clamp, within [-128, 127] */
    const int32_t *fast_requant; /**< DSP kernels: FITML_FAST_REQUANT records or NULL */
    const int16_t *filter_dsp;  /**< DSP kernels: int16 4-channel blocks (see cdsp.py), or NULL */
} fitml_conv_s8_params;

/** @brief DEPTHWISE_CONV_2D int8: output channel ic*depth_multiplier+m reads input channel ic. */
typedef struct {
    fitml_conv_geom geom;
    int32_t depth_multiplier;
    const int8_t *filter;       /**< [KH][KW][C_out] */
    const int32_t *bias;        /**< folded bias [C_out], never NULL */
    fitml_requant requant;
    int32_t input_zp;
    int32_t output_zp;
    int32_t act_min, act_max;
    const int16_t *filter_dsp;  /**< DSP kernels: packed 4-channel blocks (see cdsp.py), or NULL */
} fitml_depthwise_conv_s8_params;

/** @brief CONV_2D float32. */
typedef struct {
    fitml_conv_geom geom;
    const float *filter;        /**< [C_out][KH][KW][C_in/groups] */
    const float *bias;          /**< [C_out] or NULL */
    float act_min, act_max;
} fitml_conv_f32_params;

/** @brief DEPTHWISE_CONV_2D float32. */
typedef struct {
    fitml_conv_geom geom;
    int32_t depth_multiplier;
    const float *filter;        /**< [KH][KW][C_out] */
    const float *bias;          /**< [C_out] or NULL */
    float act_min, act_max;
} fitml_depthwise_conv_f32_params;

/** @brief FULLY_CONNECTED int8: out[b][n] from in[b][0..input_size). */
typedef struct {
    int32_t batches, input_size, output_size;
    const int8_t *filter;       /**< [output_size][input_size] */
    const int32_t *bias;        /**< folded bias [output_size], never NULL */
    fitml_requant requant;
    int32_t output_zp;
    int32_t act_min, act_max;
    const int16_t *filter_dsp;  /**< DSP kernels: packed 4-row blocks (see cdsp.py), or NULL */
} fitml_fully_connected_s8_params;

/** @brief FULLY_CONNECTED float32. */
typedef struct {
    int32_t batches, input_size, output_size;
    const float *filter;        /**< [output_size][input_size] */
    const float *bias;          /**< [output_size] or NULL */
    float act_min, act_max;
} fitml_fully_connected_f32_params;

/** @brief Geometry of a 2-D pooling window (clipped to the image). */
typedef struct {
    fitml_dims input, output;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
} fitml_pool_geom;

/** @brief AVERAGE_POOL_2D / MAX_POOL_2D int8 (raw codes; in/out quantization equal). */
typedef struct {
    fitml_pool_geom geom;
    int32_t act_min, act_max;
} fitml_pool_s8_params;

/** @brief AVERAGE_POOL_2D / MAX_POOL_2D float32. */
typedef struct {
    fitml_pool_geom geom;
    float act_min, act_max;
} fitml_pool_f32_params;

/**
 * @brief Broadcast walk of a binary element-wise op, outermost dim first.
 *
 * Output element i (row-major over dims) reads input 1 at sum(idx[d] * strides1[d]) and input 2
 * at sum(idx[d] * strides2[d]); a broadcast dim has stride 0. Python merges dims where it can,
 * so the common cases are rank 1.
 */
typedef struct {
    int32_t rank;                       /**< 1..FITML_MAX_DIMS */
    int32_t dims[FITML_MAX_DIMS];
    int32_t strides1[FITML_MAX_DIMS];   /**< element strides of input 1 */
    int32_t strides2[FITML_MAX_DIMS];   /**< element strides of input 2 */
} fitml_broadcast;

/** @brief An int8 -> int8 function of the code alone, as a table (fitml_lut_s8). */
typedef struct {
    int32_t size;
    const int8_t *lut;                  /**< 256 outputs, for inputs -128..127 */
} fitml_lut_s8_params;

/**
 * @brief SELECT_V2: output dims (row-major) and each operand's element strides, 0 where it
 *        broadcasts; elements are copied as elem_size bytes.
 */
typedef struct {
    int32_t rank;                       /**< 1..FITML_MAX_DIMS */
    int32_t dims[FITML_MAX_DIMS];
    int32_t strides_cond[FITML_MAX_DIMS];
    int32_t strides_x[FITML_MAX_DIMS];
    int32_t strides_y[FITML_MAX_DIMS];
    int32_t elem_size;                  /**< bytes per x / y / output element (1..8) */
} fitml_select_params;

/** @brief CAST: element count and the two element types (0 float32, 1 int8, 2 int16,
 *         3 int32, 4 bool). */
typedef struct {
    int32_t size;
    int32_t input_type, output_type;
} fitml_cast_params;

/** @brief ZEROS_LIKE: the output's size in bytes. */
typedef struct {
    int32_t bytes;
} fitml_zeros_params;

/** @brief MAXIMUM / MINIMUM: only the broadcast walk (stored values are compared). */
typedef struct {
    fitml_broadcast bc;
} fitml_broadcast_params;

/** @brief ADD / SUB int8 (TFLite AddFunc: inputs rescaled with a common left shift). */
typedef struct {
    fitml_broadcast bc;
    int32_t input1_zp, input2_zp, output_zp;
    int32_t left_shift;                 /**< 20 for int8 */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
    const int32_t *lut;                 /**< DSP kernels: FITML_ADD_LUT words, or NULL */
} fitml_add_s8_params;

/**
 * @brief Size of the DSP ADD/SUB lookup table: both inputs' rescaled values, doubled, per
 *        code (T1[q + 128], then T2 negated for SUB), then the output's fast requantization
 *        record {multiplier, round, right_shift} (see FITML_FAST_REQUANT).
 */
#define FITML_ADD_LUT 515

/** @brief MUL int8. */
typedef struct {
    fitml_broadcast bc;
    int32_t input1_zp, input2_zp, output_zp;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} fitml_mul_s8_params;

/**
 * @brief BATCH_MATMUL geometry: out[b][i][j] = sum_k lhs[b][i][k] * rhs[b][k][j], with every
 *        element stride explicit so adj_x / adj_y (transposed operands) read in place.
 */
typedef struct {
    int32_t batch_dims[3];          /**< output batch dims, leading ones 1 (rank <= 5) */
    int32_t lhs_batch_strides[3];   /**< lhs element strides per batch dim, 0 where broadcast */
    int32_t rhs_batch_strides[3];   /**< rhs element strides per batch dim, 0 where broadcast */
    int32_t rows, cols, depth;      /**< M, N, K */
    int32_t lhs_row_stride, lhs_depth_stride;   /**< lhs element steps along i and k */
    int32_t rhs_depth_stride, rhs_col_stride;   /**< rhs element steps along k and j */
} fitml_batch_matmul_geom;

/** @brief BATCH_MATMUL float32. */
typedef struct {
    fitml_batch_matmul_geom geom;
} fitml_batch_matmul_f32_params;

/** @brief BATCH_MATMUL int8 / int16 (per-tensor; int16 zero points 0). */
typedef struct {
    fitml_batch_matmul_geom geom;
    int32_t lhs_zp, rhs_zp, output_zp;
    int32_t output_multiplier, output_shift;
} fitml_batch_matmul_q_params;

/** @brief ADD / SUB / MUL float32. */
typedef struct {
    fitml_broadcast bc;
    float act_min, act_max;
} fitml_binary_f32_params;

/** @brief SOFTMAX int8 -> int8 over rows of `depth` (output scale 1/256, zero point -128). */
typedef struct {
    int32_t rows, depth;
    int32_t input_multiplier;           /**< from beta * s_in * 2^26 */
    int32_t input_left_shift;           /**< >= 0 */
    int32_t diff_min;                   /**< differences below it give output -128 */
} fitml_softmax_s8_params;

/**
 * @brief LOG_SOFTMAX int8 -> int8 over rows of `depth` (TFLM LogSoftmaxQuantized; output scale
 *        16/256, zero point 127).
 */
typedef struct {
    int32_t rows, depth;
    int32_t input_multiplier, input_left_shift; /**< differences to Q5.26 (MBQM, shift >= 0) */
    int32_t reverse_multiplier, reverse_shift;  /**< Q5.26 back to input codes (shift <= 0) */
    int32_t diff_min;                           /**< differences below it add no exp */
} fitml_log_softmax_s8_params;

/** @brief SOFTMAX float32. */
typedef struct {
    int32_t rows, depth;
    float beta;
} fitml_softmax_f32_params;

/** @brief LOGISTIC / TANH int8: input rescaled to Q4.27, saturating beyond a radius. */
typedef struct {
    int32_t size;
    int32_t input_zp;
    int32_t input_multiplier, input_shift;  /**< MBQM(q - zp, multiplier, shift) */
    int32_t input_range_radius;
} fitml_logistic_s8_params;

/** @brief TANH int8 shares LOGISTIC's parameters. */
typedef fitml_logistic_s8_params fitml_tanh_s8_params;

/**
 * @brief HARD_SWISH int8 (TFLM reference_ops::HardSwish, int16 fixed point).
 *
 * Both multipliers are TFLM's DownScaleInt32ToInt16Multiplier of a QuantizeMultiplier result:
 * Q0.15 values in [2^14, 2^15) (or 0), with TFLite exponents (positive = left shift).
 */
typedef struct {
    int32_t size;
    int32_t input_zp, output_zp;
    int32_t output_multiplier;          /**< hires input (s_in / 128) -> output scale */
    int32_t output_shift;               /**< <= 0 (TFLM Prepare requires it) */
    int32_t reluish_multiplier;         /**< hires input -> [-3, 3] read as [-1, 1] */
    int32_t reluish_shift;              /**< either sign; left shifts saturate */
} fitml_hard_swish_s8_params;

/** @brief LEAKY_RELU int8 (TFLM QuantizeLeakyRelu): one requantization per input sign. */
typedef struct {
    int32_t size;
    int32_t input_zp, output_zp;
    int32_t identity_multiplier, identity_shift; /**< s_in / s_out, for q - zp_in >= 0 */
    int32_t alpha_multiplier, alpha_shift;       /**< s_in * alpha / s_out (may be < 0) */
} fitml_leaky_relu_s8_params;

/** @brief PRELU int8 (TFLM BroadcastPrelu4DSlow): alpha broadcast, one multiplier per sign. */
typedef struct {
    fitml_broadcast bc;                 /**< input 1 the input, input 2 alpha */
    int32_t input_offset, alpha_offset; /**< -zp_in, -zp_alpha */
    int32_t output_offset;              /**< zp_out */
    int32_t multiplier_1, shift_1;      /**< s_in / s_out, for q - zp_in >= 0 */
    int32_t multiplier_2, shift_2;      /**< s_in * s_alpha / s_out, for the product */
} fitml_prelu_s8_params;

/** @brief LEAKY_RELU float32. */
typedef struct {
    int32_t size;
    float alpha;
} fitml_leaky_relu_f32_params;

/** @brief An element count, for kernels that need nothing else. */
typedef struct {
    int32_t size;
} fitml_size_params;

/** @brief QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32 (per tensor). */
typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} fitml_affine_params;

/** @brief int8 -> int8 requantization with a clamp (QUANTIZE int8->int8, RELU int8). */
typedef struct {
    int32_t size;
    int32_t input_zp, output_zp;
    int32_t multiplier, shift;
    int32_t act_min, act_max;
} fitml_requantize_s8_params;

/** @brief Plain int8 clamp (RELU6 int8 clamps raw codes in the input's quantization). */
typedef struct {
    int32_t size;
    int32_t act_min, act_max;
} fitml_clamp_s8_params;

/** @brief Plain float32 clamp (RELU, RELU6, RELU_N1_TO_1). */
typedef struct {
    int32_t size;
    float act_min, act_max;
} fitml_clamp_f32_params;

/** @brief A strided walk: dims outermost first, element strides (may be negative or 0). */
typedef struct {
    int32_t rank;                       /**< 1..FITML_MAX_DIMS */
    int32_t dims[FITML_MAX_DIMS];
    int32_t strides[FITML_MAX_DIMS];
} fitml_walk;

/**
 * @brief MEAN int8 (TFLM QuantizedMeanOrSum) with 1/count folded into the multiplier.
 *
 * Output element j (row-major over `outer`) is the mean of the input elements at
 * outer offset(j) + inner offset(i) for every i of the `inner` walk.
 */
typedef struct {
    fitml_walk outer;                   /**< kept dims */
    fitml_walk inner;                   /**< reduced dims */
    int32_t count;                      /**< number of reduced elements (> 0) */
    int32_t input_zp, output_zp;
    int32_t multiplier, shift;
} fitml_mean_s8_params;

/** @brief MEAN float32 (sum in walk order, then divide by count). */
typedef struct {
    fitml_walk outer;
    fitml_walk inner;
    int32_t count;
} fitml_mean_f32_params;

/** @brief SUM float32 and REDUCE_MAX (float32, int8): outer / inner walks and their count. */
typedef fitml_mean_f32_params fitml_reduce_params;

/** @brief PAD / PADV2 of any element type: raw bytes, fill pattern of elem_size bytes. */
typedef struct {
    int32_t rank;                       /**< 1..FITML_MAX_DIMS */
    int32_t in_dims[FITML_MAX_DIMS];
    int32_t out_dims[FITML_MAX_DIMS];
    int32_t pad_before[FITML_MAX_DIMS];
    int32_t elem_size;                  /**< 1..8 bytes */
    uint8_t pad_value[8];               /**< first elem_size bytes are the fill element */
} fitml_pad_params;

/** @brief ADD_N float32 / int32: output[i] = sum over the num_inputs inputs of input_j[i]. */
typedef struct {
    int32_t size;                       /**< elements per input */
    int32_t num_inputs;                 /**< >= 2 */
} fitml_add_n_params;

/** @brief ADD_N int8 (TFLM reference_ops::AddN): inputs share input_zp and one scale. */
typedef struct {
    int32_t size;                       /**< elements per input */
    int32_t num_inputs;                 /**< >= 2 */
    int32_t input_zp;
    int32_t output_zp;
    int32_t input_multiplier;           /**< scales (v - zp) << 20; shift <= 0 */
    int32_t input_shift;
    int32_t output_multiplier;          /**< scales the sum to the output; shift <= 0 */
    int32_t output_shift;
} fitml_add_n_s8_params;

/** @brief L2_NORMALIZATION: `outer` rows of `depth` values, each divided by its L2 norm. */
typedef struct {
    int32_t outer;
    int32_t depth;                      /**< the last axis */
    int32_t input_zp;                   /**< int8 only (0 for float32) */
} fitml_l2_normalization_params;

/** @brief MIRROR_PAD of any element type: per-dimension mirrored copies (TFLM's offset). */
typedef struct {
    int32_t rank;                       /**< 1..FITML_MAX_DIMS */
    int32_t in_dims[FITML_MAX_DIMS];
    int32_t pad_before[FITML_MAX_DIMS]; /**< each at most in_dims - offset */
    int32_t pad_after[FITML_MAX_DIMS];  /**< each at most in_dims - offset */
    int32_t offset;                     /**< 1: REFLECT (edge not repeated), 0: SYMMETRIC */
    int32_t elem_size;                  /**< bytes per element (trailing unpadded dims merged) */
} fitml_mirror_pad_params;

/**
 * @brief SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND on NHWC (3-D NHC as W = 1), rows of depth_bytes.
 *
 * Space to batch: output batch (i * block_width + j) * in_batch + b holds input pixels
 * (h * block_height + i - pad_top, w * block_width + j - pad_left), pad_byte elsewhere.
 * Batch to space is its inverse, pad_top / pad_left being the crops.
 */
typedef struct {
    int32_t in_batch, in_height, in_width;
    int32_t out_batch, out_height, out_width;
    int32_t block_height, block_width;  /**< >= 1 */
    int32_t pad_top, pad_left;          /**< paddings (space to batch) or crops (batch to space) */
    int32_t depth_bytes;                /**< channels * element size */
    int32_t pad_byte;                   /**< byte the padded rows are set to (space to batch) */
} fitml_space_batch_params;

/** @brief CONCATENATION: for each of `outer` rows, copy chunk_bytes[i] from each input i. */
typedef struct {
    int32_t num_inputs;
    int32_t outer;
    const int32_t *chunk_bytes;         /**< [num_inputs] */
} fitml_concat_params;

/** @brief SPLIT / SPLIT_V / UNPACK: for each of `outer` rows, chunk_bytes[i] to each output i. */
typedef struct {
    int32_t num_outputs;
    int32_t outer;
    const int32_t *chunk_bytes;         /**< [num_outputs] */
} fitml_split_params;

/** @brief GATHER of any element type: out[b, o, k, :] = in[b, o, coords[b, k], :]. */
typedef struct {
    int32_t batch;                      /**< product of the batch_dims leading dims */
    int32_t outer;                      /**< product of the dims between them and the axis */
    int32_t coord_size;                 /**< indices per batch */
    int32_t axis_size;                  /**< valid indices are 0 .. axis_size - 1 */
    int32_t inner_bytes;                /**< bytes of one slice (dims after the axis) */
} fitml_gather_axis_params;

/** @brief GATHER_ND of any element type: out[i, :] = in[coords[i, 0..depth-1], :]. */
typedef struct {
    int32_t slices;                     /**< index tuples (product of the indices' leading dims) */
    int32_t depth;                      /**< coordinates per tuple, 1..5 */
    int32_t slice_bytes;                /**< bytes of one slice (the params' dims after depth) */
    const int32_t *dims;                /**< [depth] valid coordinates are 0 .. dims[j] - 1 */
    const int32_t *strides;             /**< [depth] bytes between neighbours along each dim */
} fitml_gather_nd_params;

/** @brief EMBEDDING_LOOKUP: out[i, :] = table[lookup[i], :] (copied, or dequantized). */
typedef struct {
    int32_t lookups;                    /**< lookup entries (= output rows) */
    int32_t rows;                       /**< table rows; valid lookups are 0 .. rows - 1 */
    int32_t columns;                    /**< elements per row (the table's dims after the first) */
    int32_t elem_size;                  /**< bytes per table element (row copies) */
    float scale;                        /**< int8 table scale (the hybrid kernel only) */
} fitml_embedding_lookup_params;

/** @brief CUMSUM float32 / int32: running sums along the middle dim of [outer, depth, inner]. */
typedef struct {
    int32_t outer, depth, inner;
    int32_t exclusive;                  /**< nonzero: each output leaves out its own element */
    int32_t reverse;                    /**< nonzero: sums run from the end of the axis */
} fitml_cumsum_params;

/** @brief CUMSUM int8 (TFLM): inputs shifted left by 20 and rescaled as ADD, summed in int32. */
typedef struct {
    fitml_cumsum_params geom;
    int32_t input_offset;               /**< -zp_in */
    int32_t output_offset;              /**< zp_out */
    int32_t input_multiplier, input_shift;      /**< s_in / (2 s_in), shift <= 0 */
    int32_t output_multiplier, output_shift;    /**< 2 s_in / (2^20 s_out), shift <= 0 */
} fitml_cumsum_s8_params;

/** @brief ARG_MAX: over [outer, axis_size, inner], the first greatest index along axis_size. */
typedef struct {
    int32_t outer, axis_size, inner;
} fitml_arg_max_params;

/** @brief RESIZE_NEAREST_NEIGHBOR of any element type: source row / column per output one. */
typedef struct {
    int32_t batches, in_h, in_w, out_h, out_w;
    int32_t pixel_bytes;                /**< channels * element size */
    const int32_t *rows;                /**< [out_h] input row of each output row */
    const int32_t *cols;                /**< [out_w] input column of each output column */
} fitml_resize_nearest_params;

/** @brief RESIZE_BILINEAR geometry: the two source rows / columns of each output one. */
typedef struct {
    int32_t batches, in_h, in_w, depth, out_h, out_w;
    const int32_t *y0, *y1;             /**< [out_h] lower and upper input rows */
    const int32_t *x0, *x1;             /**< [out_w] lower and upper input columns */
} fitml_resize_geom;

/** @brief RESIZE_BILINEAR int8: fractions in 1/1024 (may be negative at the edges). */
typedef struct {
    fitml_resize_geom geom;
    const int32_t *dy;                  /**< [out_h] */
    const int32_t *dx;                  /**< [out_w] */
} fitml_resize_bilinear_s8_params;

/** @brief RESIZE_BILINEAR float32: fractions scaled - lower, as float. */
typedef struct {
    fitml_resize_geom geom;
    const float *dy;                    /**< [out_h] */
    const float *dx;                    /**< [out_w] */
} fitml_resize_bilinear_f32_params;

/** @brief Strided gather (TRANSPOSE, STRIDED_SLICE): output is row-major over walk.dims. */
typedef struct {
    fitml_walk walk;                    /**< input element strides per output dim */
    int32_t offset;                     /**< input element index of output element 0 */
    int32_t elem_size;                  /**< bytes per element */
} fitml_gather_params;

/** @brief TRANSPOSE parameters (a gather). */
typedef fitml_gather_params fitml_transpose_params;
/** @brief STRIDED_SLICE parameters (a gather). */
typedef fitml_gather_params fitml_strided_slice_params;

#endif /* FITML_TYPES_H */
