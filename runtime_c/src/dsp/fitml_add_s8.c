/**
 * @file fitml_add_s8.c
 * @brief int8 ADD, DSP variant: table lookups (fitml_dsp_addsub.h).
 */
#include "fitml/fitml_elementwise.h"
#include "fitml/fitml_support.h"

#if !FITML_HAS_DSP
#include "../portable/fitml_add_s8.c"
#else
#include "fitml_dsp_addsub.h"

fitml_status fitml_add_s8(const fitml_add_s8_params *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output)
{
    return fitml_dsp_addsub_s8(p, input1, input2, output, 1);
}
#endif
