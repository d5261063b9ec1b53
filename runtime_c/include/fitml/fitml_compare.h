/**
 * @file fitml_compare.h
 * @brief Comparisons (EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL) and logical
 *        ops (LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT). Bool tensors hold one byte per element,
 *        0 or 1.
 */
#ifndef FITML_COMPARE_H
#define FITML_COMPARE_H

#include "fitml_types.h"

/** @brief The comparison a fitml_compare_params.op selects. */
enum {
    FITML_CMP_EQUAL = 0,
    FITML_CMP_NOT_EQUAL = 1,
    FITML_CMP_GREATER = 2,
    FITML_CMP_GREATER_EQUAL = 3,
    FITML_CMP_LESS = 4,
    FITML_CMP_LESS_EQUAL = 5
};

/** @brief The logical op a fitml_logical_params.op selects. */
enum { FITML_LOGICAL_AND = 0, FITML_LOGICAL_OR = 1 };

/**
 * @brief Comparison: the broadcast walk, the op (FITML_CMP_*) and, for int8, each input's
 *        TFLM scaling: value = MBQM(((q + offset) << 8), multiplier, shift), shift <= 0.
 */
typedef struct {
    fitml_broadcast bc;
    int32_t op;                                    /**< FITML_CMP_* */
    int32_t input1_offset, input1_multiplier, input1_shift; /**< int8 only (offset = -zp) */
    int32_t input2_offset, input2_multiplier, input2_shift; /**< int8 only */
} fitml_compare_params;

/** @brief LOGICAL_AND / LOGICAL_OR: the broadcast walk and the op (FITML_LOGICAL_*). */
typedef struct {
    fitml_broadcast bc;
    int32_t op;
} fitml_logical_params;

/**
 * @brief Comparison of float32 values, broadcast (TFLM comparisons.cc); NaN compares as in C.
 * @param p      broadcast walk and op code
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output bool (0 / 1) per element, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT (NULL, bad op) or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_compare_f32(const fitml_compare_params *p, const float *input1,
                               const float *input2, uint8_t *output);

/**
 * @brief Comparison of int8 inputs rescaled to one fixed-point axis (TFLM *WithScaling), so
 *        the two inputs may have different scales and zero points.
 * @param p      broadcast walk, op code and the two inputs' scalings
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output bool (0 / 1) per element
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_compare_s8(const fitml_compare_params *p, const int8_t *input1,
                              const int8_t *input2, uint8_t *output);

/**
 * @brief Comparison of int32 values, broadcast.
 * @param p      broadcast walk and op code
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output bool (0 / 1) per element
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_compare_s32(const fitml_compare_params *p, const int32_t *input1,
                               const int32_t *input2, uint8_t *output);

/**
 * @brief EQUAL / NOT_EQUAL of bool tensors (truth values: any non-zero byte is true), broadcast.
 * @param p      broadcast walk and op code
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output bool (0 / 1) per element
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_compare_bool(const fitml_compare_params *p, const uint8_t *input1,
                                const uint8_t *input2, uint8_t *output);

/**
 * @brief LOGICAL_AND / LOGICAL_OR of bool tensors, broadcast (any non-zero byte is true).
 * @param p      broadcast walk and op code
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output bool (0 / 1) per element
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_logical_bool(const fitml_logical_params *p, const uint8_t *input1,
                                const uint8_t *input2, uint8_t *output);

/**
 * @brief LOGICAL_NOT: 1 where the input byte is 0, else 0.
 * @param p      element count
 * @param input  bool tensor
 * @param output bool tensor (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_logical_not_bool(const fitml_size_params *p, const uint8_t *input,
                                    uint8_t *output);

#endif /* FITML_COMPARE_H */
