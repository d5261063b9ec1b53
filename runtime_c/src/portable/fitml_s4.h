/**
 * @file fitml_s4.h
 * @brief Reading packed int4 weights (two per byte, low nibble first, as TFLite packs them).
 */
#ifndef FITML_S4_H
#define FITML_S4_H

#include <stddef.h>
#include <stdint.h>

/** @brief Sign-extend a 4-bit two's-complement nibble (0..15) to int32. */
static inline int32_t fitml_s4_extend(uint32_t nibble)
{
    return (int32_t)(nibble ^ 8u) - 8;
}

/** @brief Element i of a packed int4 array. */
static inline int32_t fitml_s4_at(const uint8_t *packed, size_t i)
{
    const uint32_t byte = packed[i >> 1];
    return fitml_s4_extend((i & 1u) ? (byte >> 4) : (byte & 15u));
}

/**
 * @brief sum_i a[i] * w[start + i] for i < n, w packed int4, wrapping int32 accumulation.
 *
 * Rows of a packed filter start mid-byte when the row length is odd: the first value is then
 * the high nibble of its byte; the rest go two per byte.
 */
static inline int32_t fitml_dot_s8s4(const int8_t *a, const uint8_t *w, size_t start, int32_t n)
{
    uint32_t acc = 0u;
    const uint8_t *p = w + (start >> 1);
    int32_t i = 0;
    if (n > 0 && (start & 1u)) {
        acc += (uint32_t)((int32_t)a[0] * fitml_s4_extend((uint32_t)*p++ >> 4));
        i = 1;
    }
    for (; i + 1 < n; i += 2) {
        const uint32_t byte = *p++;
        acc += (uint32_t)((int32_t)a[i] * fitml_s4_extend(byte & 15u));
        acc += (uint32_t)((int32_t)a[i + 1] * fitml_s4_extend(byte >> 4));
    }
    if (i < n) {
        acc += (uint32_t)((int32_t)a[i] * fitml_s4_extend((uint32_t)*p & 15u));
    }
    return (int32_t)acc;
}

#endif /* FITML_S4_H */
