/**
 * @file fitml_fully_connected_s16.c
 * @brief Cortex-M55 (MVE) build: the DSP-extension kernel (M55 has SXTB16/SMLAD too), which
 *        reads the DSP filter layout the lowering emits for DSP and MVE builds alike.
 */
#include "../dsp/fitml_fully_connected_s16.c"
