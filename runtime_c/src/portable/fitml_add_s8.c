/**
 * @file fitml_add_s8.c
 * @brief int8 ADD with broadcasting (TFLM AddFunc).
 */
#include "fitml/fitml_elementwise.h"
#include "fitml_addsub.h"

fitml_status fitml_add_s8(const fitml_add_s8_params *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output)
{
    return fitml_addsub_s8(p, input1, input2, output, 1);
}
