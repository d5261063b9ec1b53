/**
 * @file fitml_conv_s8_noscratch.c
 * @brief Scratch-free int8 CONV_2D for the Cortex-M DSP extension (fitml_dsp_direct.h): the
 *        input read in place, 2 channels x 2 pixels per SMLAD pass. Bit-exact with the
 *        portable scratch-free kernel, which builds without the DSP extension use.
 */
#include "fitml/fitml_conv.h"
#include "fitml/fitml_support.h"

#if !FITML_HAS_DSP
#include "../portable/fitml_conv_s8_noscratch.c"
#else
#include "fitml_dsp_direct.h"

fitml_status fitml_conv_s8_noscratch(const fitml_conv_s8_params *p, const int8_t *input,
                                     int8_t *output)
{
    return fitml_dsp_direct_s8(p, input, output, NULL, NULL, 0);
}
#endif /* FITML_HAS_DSP */
