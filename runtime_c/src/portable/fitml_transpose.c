/**
 * @file fitml_transpose.c
 * @brief TRANSPOSE of any element type as a strided gather.
 */
#include "fitml/fitml_data.h"
#include "fitml_gather.h"

fitml_status fitml_transpose(const fitml_transpose_params *p, const void *input, void *output)
{
    return fitml_gather(p, input, output);
}
