/**
 * @file fitml_sub_s16.c
 * @brief int16 SUB with broadcasting (TFLM general-scale int16 path, left shift 15).
 */
#include "fitml/fitml_int16.h"
#include "fitml_addsub.h"

fitml_status fitml_sub_s16(const fitml_add_s8_params *p, const int16_t *input1,
                           const int16_t *input2, int16_t *output)
{
    return fitml_addsub_s16(p, input1, input2, output, -1);
}
