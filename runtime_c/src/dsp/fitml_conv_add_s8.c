/**
 * @file fitml_conv_add_s8.c
 * @brief int8 CONV_2D fused with its residual ADD, scratch-free, for the Cortex-M DSP
 *        extension (fitml_dsp_direct.h); output may be residual itself. Bit-exact with the
 *        portable fused kernel, which builds without the DSP extension use.
 */
#include "fitml/fitml_conv.h"
#include "fitml/fitml_support.h"

#if !FITML_HAS_DSP
#include "../portable/fitml_conv_add_s8.c"
#else
#include "fitml_dsp_direct.h"

fitml_status fitml_conv_add_s8(const fitml_conv_add_s8_params *p, const int8_t *input,
                               const int8_t *residual, int8_t *output)
{
    if (p == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    return fitml_dsp_direct_s8(&p->conv, input, output, &p->add, residual, p->residual_first);
}
#endif /* FITML_HAS_DSP */
