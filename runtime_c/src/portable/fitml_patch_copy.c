/**
 * @file fitml_patch_copy.c
 * @brief Pitched box copy for the gathers and scatters of patch-based stages.
 */
#include <string.h>

#include "fitml/fitml_patch.h"

void fitml_patch_copy(void *dst, int32_t dst_pitch, const void *src, int32_t src_pitch,
                      int32_t rows, int32_t row_bytes)
{
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    int32_t r;
    if (dst == NULL || src == NULL || row_bytes <= 0) {
        return;
    }
    for (r = 0; r < rows; r++) {
        memcpy(d, s, (size_t)row_bytes);
        d += dst_pitch;
        s += src_pitch;
    }
}
