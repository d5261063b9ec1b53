/**
 * @file fitml_strided_slice.c
 * @brief STRIDED_SLICE of any element type as a strided gather (Python resolved begin, end,
 *        masks and negative strides into an offset and signed element strides).
 */
#include "fitml/fitml_data.h"
#include "fitml_gather.h"

fitml_status fitml_strided_slice(const fitml_strided_slice_params *p, const void *input,
                                 void *output)
{
    return fitml_gather(p, input, output);
}
