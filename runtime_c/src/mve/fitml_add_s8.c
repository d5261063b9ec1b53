/**
 * @file fitml_add_s8.c
 * @brief Cortex-M55 (MVE) build: the DSP-extension kernel (M55 has SXTB16/SMLAD too).
 */
#include "../dsp/fitml_add_s8.c"
