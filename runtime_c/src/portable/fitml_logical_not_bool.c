/**
 * @file fitml_logical_not_bool.c
 * @brief LOGICAL_NOT on one-byte bools.
 */
#include "fitml/fitml_compare.h"

fitml_status fitml_logical_not_bool(const fitml_size_params *p, const uint8_t *input,
                                    uint8_t *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        output[i] = (uint8_t)(input[i] == 0);
    }
    return FITML_OK;
}
