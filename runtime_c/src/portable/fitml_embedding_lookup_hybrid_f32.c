/**
 * @file fitml_embedding_lookup_hybrid_f32.c
 * @brief Hybrid EMBEDDING_LOOKUP: int8 rows dequantized to float32 (TFLM EvalHybrid).
 */
#include "fitml/fitml_data.h"

fitml_status fitml_embedding_lookup_hybrid_f32(const fitml_embedding_lookup_params *p,
                                               const int32_t *lookup, const int8_t *table,
                                               float *output)
{
    int32_t i, c;
    if (p == NULL || lookup == NULL || table == NULL || output == NULL || p->lookups < 0 ||
        p->columns < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->lookups; i++) {
        const int8_t *row;
        float *out = output + (size_t)i * (size_t)p->columns;
        if (lookup[i] < 0 || lookup[i] >= p->rows) {
            return FITML_ERR_ARGUMENT;
        }
        row = table + (size_t)lookup[i] * (size_t)p->columns;
        for (c = 0; c < p->columns; c++) {
            out[c] = (float)row[c] * p->scale;
        }
    }
    return FITML_OK;
}
