/**
 * @file fitml_lstm.h
 * @brief UNIDIRECTIONAL_SEQUENCE_LSTM (standard LSTM: no peephole, projection, layer norm or
 *        CIFG), int8 ("8x8->16") and float32, as TFLite Micro's kernel computes it.
 *
 * Gates are stored in the order input, forget, cell, output: weights as one [4][units][...]
 * array each. The hidden and cell states are the caller's and persist between calls, as TFLM
 * keeps its variable tensors: each call starts from the states the previous one left and
 * updates them in place (the generated model keeps them in static arrays, set back to real
 * zero, the int8 hidden state to hidden_zp, by <prefix>_reset_state()).
 *
 * Parameter structs are mirrored by toolchain/backends/cruntime.py STRUCTS.
 */
#ifndef FITML_LSTM_H
#define FITML_LSTM_H

#include "fitml_types.h"

/**
 * @brief int8 LSTM: int8 input and hidden state, int8 weights, int16 gates (Q3.12 in, Q0.15
 *        out) and int16 cell state at scale 2^cell_power.
 *
 * gate = sigmoid|tanh(sat16(FC(x) + FC(h))), each FC requantized to int16 on its own;
 * c = sat16(MUL(f, c) + MUL(i, g)) clipped to +-cell_clip (0: no clip);
 * h = clamp8(MBQM(tanh(c) * o) + hidden_zp).
 */
typedef struct {
    int32_t batches, time_steps, input_size, units;
    int32_t time_major;                 /**< nonzero: input [time][batch][input_size] */
    int8_t *hidden_state;               /**< [batches][units], persistent: read and updated */
    int16_t *cell_state;                /**< [batches][units], persistent: read and updated */
    const int8_t *input_weights;        /**< [4][units][input_size] */
    const int8_t *recurrent_weights;    /**< [4][units][units] */
    const int32_t *input_bias;          /**< [4][units]: gate bias - input_zp * row sums */
    const int32_t *recurrent_bias;      /**< [4][units]: -hidden_zp * row sums */
    int32_t input_multiplier[4], input_shift[4];          /**< FC(x) -> Q3.12 */
    int32_t recurrent_multiplier[4], recurrent_shift[4];  /**< FC(h) -> Q3.12 */
    int32_t forget_multiplier, forget_shift;    /**< forget gate x cell -> cell */
    int32_t update_multiplier, update_shift;    /**< input gate x cell gate -> cell */
    int32_t hidden_multiplier, hidden_shift;    /**< tanh(cell) x output gate -> hidden */
    int32_t hidden_zp;
    int32_t cell_clip;                          /**< quantized clip, 0: none */
    int32_t cell_tanh_multiplier, cell_tanh_shift;  /**< tanh(cell) input rescale (int16 TANH) */
    int32_t dsp_fast;   /**< DSP builds: every shift in [-23, -1] and |acc| < 2^30 (SMMLAR path) */
    const int16_t *sigmoid_table;       /**< [256] as fitml_logistic_s16_params.table */
    /** DSP builds (src/dsp), or NULL: the int16 weight layout that replaces input_weights and
     *  recurrent_weights (both NULL then). Per gate, per 4 units: {input init0..3 (int32),
     *  input taps [input_size4/4][4 units][k0, k2, k1, k3], recurrent init0..3, recurrent taps
     *  [units4/4][4][4]}, inits and taps doubled; then the {B, S} int32 pair tables of the
     *  int16 sigmoid (q = -192..191) and tanh (q = -256..255), lstm_lowering.lerp_tables.
     *  Emitted only with dsp_fast. */
    const int16_t *filter_dsp;
    /** DSP builds without filter_dsp (src/dsp), or NULL: the int8 weights and the doubled int32
     *  biases of both FCs in the DSP kernel's order (toolchain/ops/lstm_s8_stream.py): per unit
     *  {input biases of the 4 gates, input taps, recurrent biases, recurrent taps}, taps per
     *  4-deep block [gate][k0..k3], then the size % 4 leftover columns [column][gate]. It replaces
     *  input_weights, recurrent_weights, input_bias and recurrent_bias (all NULL then), and
     *  sigmoid_table has a 257th entry (32767). Emitted only with dsp_fast. */
    const int8_t *weights_dsp;
} fitml_lstm_s8_params;

/** @brief float32 LSTM (sigmoid gates, tanh cell gate and output). */
typedef struct {
    int32_t batches, time_steps, input_size, units;
    int32_t time_major;                 /**< nonzero: input [time][batch][input_size] */
    float *hidden_state;                /**< [batches][units], persistent: read and updated */
    float *cell_state;                  /**< [batches][units], persistent: read and updated */
    const float *input_weights;         /**< [4][units][input_size] */
    const float *recurrent_weights;     /**< [4][units][units] */
    const float *bias;                  /**< [4][units] */
    float cell_clip;                    /**< > 0: clip the cell state to +-cell_clip */
} fitml_lstm_f32_params;

/**
 * @brief Scratch bytes fitml_lstm_s8 needs: the gate buffers and the widened operands.
 * @param p parameters
 * @return bytes
 */
size_t fitml_lstm_s8_scratch_size(const fitml_lstm_s8_params *p);

/**
 * @brief int8 UNIDIRECTIONAL_SEQUENCE_LSTM (TFLM EvalLstm<int8_t, int8_t, int16_t, int32_t>).
 * @param p       parameters (p->hidden_state and p->cell_state are read and updated)
 * @param input   [batches][time_steps][input_size] (time_major: [time][batch][input]) int8
 * @param output  the hidden state of every step, laid out as the input, units wide, int8
 * @param scratch fitml_lstm_s8_scratch_size(p) bytes, 4-byte aligned
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_SCRATCH
 */
fitml_status fitml_lstm_s8(const fitml_lstm_s8_params *p, const int8_t *input, int8_t *output,
                           void *scratch);

/**
 * @brief Scratch bytes fitml_lstm_f32 needs (4 * units floats: the gates).
 * @param p parameters
 * @return bytes
 */
size_t fitml_lstm_f32_scratch_size(const fitml_lstm_f32_params *p);

/**
 * @brief float32 UNIDIRECTIONAL_SEQUENCE_LSTM (TFLM EvalLstm<float, ...>).
 * @param p       parameters (p->hidden_state and p->cell_state are read and updated)
 * @param input   [batches][time_steps][input_size] (time_major: [time][batch][input]) float
 * @param output  the hidden state of every step, laid out as the input, units wide
 * @param scratch fitml_lstm_f32_scratch_size(p) bytes, 4-byte aligned
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_SCRATCH
 */
fitml_status fitml_lstm_f32(const fitml_lstm_f32_params *p, const float *input, float *output,
                            void *scratch);

#endif /* FITML_LSTM_H */
