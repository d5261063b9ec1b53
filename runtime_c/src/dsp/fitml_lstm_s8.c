/**
 * @file fitml_lstm_s8.c
 * @brief int8 UNIDIRECTIONAL_SEQUENCE_LSTM for the Cortex-M DSP extension: the portable kernel
 *        with SMLAD dot products (each step's input and hidden state widened once by SXTB16,
 *        the weights widened as they stream).
 */
#include "fitml/fitml_config.h"

#if FITML_HAS_DSP
#define FITML_LSTM_DSP 1
#endif
#include "../portable/fitml_lstm_s8.c"
