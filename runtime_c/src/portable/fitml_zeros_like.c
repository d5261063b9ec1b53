/**
 * @file fitml_zeros_like.c
 * @brief ZEROS_LIKE: clears the output (all-zero bytes are 0 and 0.0f in every dtype).
 */
#include <string.h>

#include "fitml/fitml_data.h"

fitml_status fitml_zeros_like(const fitml_zeros_params *p, void *output)
{
    if (p == NULL || output == NULL || p->bytes < 0) {
        return FITML_ERR_ARGUMENT;
    }
    memset(output, 0, (size_t)p->bytes);
    return FITML_OK;
}
