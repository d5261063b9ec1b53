/**
 * @file fitml_dsp_macs.h
 * @brief Internal: the inline-asm pieces shared by the kernels that read a pre-widened int16
 *        weight layout (the conv int16 path, FULLY_CONNECTED, LSTM). Not part of the API.
 *
 * Operand lanes X0 = (x0, x2), X1 = (x1, x3) (SXTB16 / SXTB16 ROR 8 of 4 int8 inputs); the
 * layout streams, per 4-deep block, 4 rows of doubled taps in the same lane order.
 */
#ifndef FITML_DSP_MACS_H
#define FITML_DSP_MACS_H

/* r0..r3 += one 4-deep block for 4 rows, taps streamed from %[w]: 2 LDMs, 8 SMLADs.
 * Clobbers r8-r11. */
#define FITML_DSP_MAC_4ROWS(X0, X1)                                                            \
    "ldmia %[w]!, {r8, r9, r10, r11}\n\t"                                                      \
    "smlad r0, " X0 ", r8, r0\n\t"                                                             \
    "smlad r0, " X1 ", r9, r0\n\t"                                                             \
    "smlad r1, " X0 ", r10, r1\n\t"                                                            \
    "smlad r1, " X1 ", r11, r1\n\t"                                                            \
    "ldmia %[w]!, {r8, r9, r10, r11}\n\t"                                                      \
    "smlad r2, " X0 ", r8, r2\n\t"                                                             \
    "smlad r2, " X1 ", r9, r2\n\t"                                                             \
    "smlad r3, " X0 ", r10, r3\n\t"                                                            \
    "smlad r3, " X1 ", r11, r3\n\t"

/* Doubled accumulator A -> BITS-bit result in A through T, given the fast requantization
 * record {m, round, shift} in M, R, E (fitml_requant_fast, then SSAT). */
#define FITML_DSP_REQUANT(A, T, M, R, E, BITS)                                                 \
    "smmlar " T ", " A ", " M ", " R "\n\t"                                                    \
    "add " T ", " T ", " A ", asr #31\n\t"                                                     \
    "asr " T ", " T ", " E "\n\t"                                                              \
    "ssat " A ", #" BITS ", " T "\n\t"

#endif /* FITML_DSP_MACS_H */
