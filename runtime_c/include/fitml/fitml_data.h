/**
 * @file fitml_data.h
 * @brief Data movement of any element type: PAD, MIRROR_PAD, SPACE_TO_BATCH_ND,
 *        BATCH_TO_SPACE_ND, CONCATENATION (and PACK), SPLIT (SPLIT_V, UNPACK), GATHER,
 *        TRANSPOSE (and DEPTH_TO_SPACE, SPACE_TO_DEPTH, BROADCAST_TO, FILL), STRIDED_SLICE,
 *        SELECT_V2, CAST, ZEROS_LIKE, GATHER_ND, EMBEDDING_LOOKUP.
 *
 * These copy raw bytes (elements of elem_size bytes); quantization is never read. RESHAPE and
 * SQUEEZE need no kernel: the output aliases the input (or a memmove when the plan moves it).
 */
#ifndef FITML_DATA_H
#define FITML_DATA_H

#include "fitml_types.h"

/**
 * @brief PAD / PADV2: the output filled with the pad element, the input copied inside it.
 * @param p      parameters
 * @param input  input elements
 * @param output output elements (must not overlap the input)
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_pad(const fitml_pad_params *p, const void *input, void *output);

/**
 * @brief MIRROR_PAD: every output element copied from its mirrored input element.
 * @param p      parameters
 * @param input  input elements
 * @param output output elements (must not overlap the input)
 * @return FITML_OK, FITML_ERR_ARGUMENT (paddings beyond the input) or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_mirror_pad(const fitml_mirror_pad_params *p, const void *input, void *output);

/**
 * @brief SPACE_TO_BATCH_ND: each block offset's pixels to their own batch, padded rows set to
 *        p->pad_byte (as TFLM's memset).
 * @param p      parameters
 * @param input  input elements
 * @param output output elements (must not overlap the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_space_to_batch_nd(const fitml_space_batch_params *p, const void *input,
                                     void *output);

/**
 * @brief BATCH_TO_SPACE_ND: the batches interleaved back into space, crops dropped.
 * @param p      parameters (pad_top / pad_left are the crops)
 * @param input  input elements
 * @param output output elements (must not overlap the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_batch_to_space_nd(const fitml_space_batch_params *p, const void *input,
                                     void *output);

/**
 * @brief CONCATENATION: row by row, the chunk of each input in turn.
 * @param p      parameters
 * @param inputs p->num_inputs input pointers
 * @param output output
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_concat(const fitml_concat_params *p, const void *const *inputs,
                          void *output);

/**
 * @brief SPLIT / SPLIT_V / UNPACK: row by row, the input's next chunk to each output in turn.
 * @param p       parameters
 * @param input   input
 * @param outputs p->num_outputs output pointers (none may overlap the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_split(const fitml_split_params *p, const void *input, void *const *outputs);

/**
 * @brief GATHER: for each batch and outer index, the input slice each index picks.
 * @param p      parameters
 * @param input  input elements
 * @param coords int32 indices, [batch, coord_size]
 * @param output output elements (must not overlap the input)
 * @return FITML_OK, or FITML_ERR_ARGUMENT (also for an index outside [0, axis_size), as TFLM
 *         fails the inference)
 */
fitml_status fitml_gather_axis(const fitml_gather_axis_params *p, const void *input,
                               const int32_t *coords, void *output);

/**
 * @brief GATHER_ND: for each index tuple, the params slice it picks.
 * @param p      parameters
 * @param input  params elements
 * @param coords int32 index tuples, [slices, depth]
 * @param output output elements (must not overlap the input)
 * @return FITML_OK, or FITML_ERR_ARGUMENT (also for a coordinate outside [0, dims[j]), where
 *         TFLM fails the inference or, when the flat offset stays inside, copies a
 *         neighbouring slice)
 */
fitml_status fitml_gather_nd(const fitml_gather_nd_params *p, const void *input,
                             const int32_t *coords, void *output);

/**
 * @brief EMBEDDING_LOOKUP of float32 or int8 rows: the table row each lookup names, copied.
 * @param p      parameters
 * @param lookup int32 row numbers, [lookups]
 * @param table  table elements, [rows, columns]
 * @param output output elements, [lookups, columns]
 * @return FITML_OK, or FITML_ERR_ARGUMENT (also for a lookup outside [0, rows), as TFLM fails
 *         the inference)
 */
fitml_status fitml_embedding_lookup(const fitml_embedding_lookup_params *p,
                                    const int32_t *lookup, const void *table, void *output);

/**
 * @brief Hybrid EMBEDDING_LOOKUP: int8 table rows dequantized to float32 as q * scale (TFLM's
 *        EvalHybrid; the table's zero point is 0).
 * @param p      parameters (scale: the table's)
 * @param lookup int32 row numbers, [lookups]
 * @param table  int8 table, [rows, columns]
 * @param output float32, [lookups, columns]
 * @return FITML_OK, or FITML_ERR_ARGUMENT (also for a lookup outside [0, rows))
 */
fitml_status fitml_embedding_lookup_hybrid_f32(const fitml_embedding_lookup_params *p,
                                               const int32_t *lookup, const int8_t *table,
                                               float *output);

/**
 * @brief TRANSPOSE as a strided gather (strides are the input strides in output dim order).
 * @param p      parameters
 * @param input  input elements
 * @param output output elements, row-major
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_transpose(const fitml_transpose_params *p, const void *input, void *output);

/**
 * @brief STRIDED_SLICE as a strided gather (offset of the first element, signed strides).
 * @param p      parameters
 * @param input  input elements
 * @param output output elements, row-major
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_strided_slice(const fitml_strided_slice_params *p, const void *input,
                                 void *output);

/**
 * @brief SELECT_V2 with broadcasting: output[i] = condition[i] ? x[i] : y[i] (any element type).
 * @param p         dims, the three operands' strides and the element size
 * @param condition bool condition (one byte each, nonzero is true)
 * @param x         values taken where the condition holds
 * @param y         values taken elsewhere
 * @param output    result, row-major over p->dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_select(const fitml_select_params *p, const uint8_t *condition,
                          const void *x, const void *y, void *output);

/**
 * @brief CAST per element: static_cast between float32, int8, int16, int32 and bool.
 * @param p      element count and type codes
 * @param input  input elements
 * @param output output elements
 * @return FITML_OK or FITML_ERR_ARGUMENT (unknown type code)
 */
fitml_status fitml_cast(const fitml_cast_params *p, const void *input, void *output);

/**
 * @brief ZEROS_LIKE: sets p->bytes bytes of the output to zero.
 * @param p      byte count
 * @param output the tensor to clear
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_zeros_like(const fitml_zeros_params *p, void *output);

#endif /* FITML_DATA_H */
