/**
 * @file fitml_embedding_lookup.c
 * @brief EMBEDDING_LOOKUP of float32 or int8 rows: one memcpy per lookup, lookups checked.
 */
#include <string.h>

#include "fitml/fitml_data.h"

fitml_status fitml_embedding_lookup(const fitml_embedding_lookup_params *p,
                                    const int32_t *lookup, const void *table, void *output)
{
    const uint8_t *src = (const uint8_t *)table;
    uint8_t *dst = (uint8_t *)output;
    size_t row_bytes;
    int32_t i;
    if (p == NULL || lookup == NULL || table == NULL || output == NULL || p->lookups < 0 ||
        p->columns < 0 || p->elem_size <= 0) {
        return FITML_ERR_ARGUMENT;
    }
    row_bytes = (size_t)p->columns * (size_t)p->elem_size;
    for (i = 0; i < p->lookups; i++) {
        if (lookup[i] < 0 || lookup[i] >= p->rows) {
            return FITML_ERR_ARGUMENT;
        }
        memcpy(dst + (size_t)i * row_bytes, src + (size_t)lookup[i] * row_bytes, row_bytes);
    }
    return FITML_OK;
}
