/**
 * @file fitml_cast.c
 * @brief CAST among float32, int8, int16, int32 and bool (TFLM cast.cc static_cast): see
 *        toolchain/ops/cast.py for the conversions and the out-of-range float rule.
 */
#include "fitml/fitml_data.h"
#include "fitml/fitml_support.h"

enum { T_F32, T_S8, T_S16, T_S32, T_BOOL };

static int32_t load_int(const void *p, int32_t type, int32_t i)
{
    switch (type) {
    case T_S8:
        return ((const int8_t *)p)[i];
    case T_S16:
        return ((const int16_t *)p)[i];
    case T_S32:
        return ((const int32_t *)p)[i];
    default:
        return ((const uint8_t *)p)[i] != 0u;
    }
}

/* float -> integer in [lo, hi], truncating toward zero and saturating; NaN gives 0. */
static int32_t float_to_int(float v, int32_t lo, int32_t hi)
{
    if (v != v) {
        return 0;
    }
    if (v <= (float)lo) {
        return lo;
    }
    if (v >= (float)hi) {
        return hi;
    }
    return (int32_t)v;
}

static void store(void *p, int32_t type, int32_t i, int32_t v, float f, int is_float)
{
    switch (type) {
    case T_F32:
        ((float *)p)[i] = is_float ? f : (float)v;
        break;
    case T_BOOL:
        ((uint8_t *)p)[i] = (uint8_t)(is_float ? f != 0.0f : v != 0);
        break;
    case T_S8:
        v = is_float ? float_to_int(f, -128, 127) : v;
        ((int8_t *)p)[i] = (int8_t)(uint8_t)(uint32_t)v;     /* wraps */
        break;
    case T_S16:
        v = is_float ? float_to_int(f, -32768, 32767) : v;
        ((int16_t *)p)[i] = (int16_t)(uint16_t)(uint32_t)v;
        break;
    default:
        ((int32_t *)p)[i] = is_float ? float_to_int(f, FITML_INT32_MIN, FITML_INT32_MAX) : v;
        break;
    }
}

fitml_status fitml_cast(const fitml_cast_params *p, const void *input, void *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0 || p->input_type < T_F32
        || p->input_type > T_BOOL || p->output_type < T_F32 || p->output_type > T_BOOL) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        if (p->input_type == T_F32) {
            store(output, p->output_type, i, 0, ((const float *)input)[i], 1);
        } else {
            store(output, p->output_type, i, load_int(input, p->input_type, i), 0.0f, 0);
        }
    }
    return FITML_OK;
}
