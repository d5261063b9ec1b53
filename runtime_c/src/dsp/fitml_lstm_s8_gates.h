/**
 * @file fitml_lstm_s8_gates.h
 * @brief Internal to src/dsp/fitml_lstm_s8.c (via fitml_lstm_s8_stream.h): the int8 stream's
 *        inline pieces on DSP cores: one unit's gate pass (inline asm) and the sigmoid / tanh.
 *
 * The gate pass: per FC the doubled biases from the stream into r0..r3, per 4-deep block one
 * LDM of the 4 gate rows' words, 8 SXTB16 and 8 SMLAD against the vector's doubled lanes; the
 * leftover columns with SMLA<B|T><B|T>; SMMLAR requantization per gate; QADD16 of the two FCs.
 * Sigmoid and tanh interpolate TFLM's 256-entry table (plus one entry) with one SMLAD, bit-exact
 * (toolchain/ops/lstm_s8_stream.py sigmoid / tanh).
 */
#ifndef FITML_LSTM_S8_GATES_H
#define FITML_LSTM_S8_GATES_H

#include <stddef.h>

/* What the gate pass reads besides the stream (offsets are the asm's): per FC its widened
 * vector (whole blocks up to the end, then the tail's two words) and leftover columns, and
 * {m, round, e} per gate. */
typedef struct {
    const uint32_t *xw, *xend;      /* 0, 4 */
    int32_t x_tail;                 /* 8: input_size % 4 */
    const uint32_t *hw, *hend;      /* 12, 16 */
    int32_t h_tail;                 /* 20: units % 4 */
    int32_t rec[2][4][3];           /* 24: input FC per gate, 72: recurrent FC */
} lstm_s8_args;

/* The asm's offsets hold (a negative array size stops the build otherwise). */
typedef char lstm_s8_args_offsets[offsetof(lstm_s8_args, hw) == 12
                                  && offsetof(lstm_s8_args, rec) == 24 ? 1 : -1];

/* One 4-deep block of the unit's 4 gate rows: vector lanes r4, r5 from lr; the rows' words
 * r8..r11; r0..r3 += the 4 dot products (r12: scratch). */
#define LSTM_S8_ROW(ACC, W)                                                                    \
    "sxtb16 r12, " W "\n\t"                                                                    \
    "sxtb16 " W ", " W ", ror #8\n\t"                                                          \
    "smlad " ACC ", r12, r4, " ACC "\n\t"                                                      \
    "smlad " ACC ", " W ", r5, " ACC "\n\t"
#define LSTM_S8_BLOCK                                                                          \
    "ldmia lr!, {r4, r5}\n\t"                                                                  \
    "ldmia %[w]!, {r8, r9, r10, r11}\n\t"                                                      \
    LSTM_S8_ROW("r0", "r8") LSTM_S8_ROW("r1", "r9") LSTM_S8_ROW("r2", "r10")                   \
    LSTM_S8_ROW("r3", "r11")

/* One leftover column: its 4 rows' bytes (one word) times one lane (LANE: b|t of X). */
#define LSTM_S8_COLUMN(X, LANE)                                                                \
    "ldr r8, [%[w]], #4\n\t"                                                                   \
    "sxtb16 r9, r8\n\t"                                                                        \
    "sxtb16 r8, r8, ror #8\n\t"                                                                \
    "smlab" LANE " r0, r9, " X ", r0\n\t"                                                      \
    "smlat" LANE " r2, r9, " X ", r2\n\t"                                                      \
    "smlab" LANE " r1, r8, " X ", r1\n\t"                                                      \
    "smlat" LANE " r3, r8, " X ", r3\n\t"

/* Accumulator A -> int16 with the next record {m, round, e} at r12 (fitml_requant_fast). */
#define LSTM_S8_RQ(A)                                                                          \
    "ldmia r12!, {r8, r9, r10}\n\t"                                                            \
    "smmlar r11, " A ", r8, r9\n\t"                                                            \
    "add r11, r11, " A ", asr #31\n\t"                                                         \
    "asr r11, r11, r10\n\t"                                                                    \
    "ssat " A ", #16, r11\n\t"

/* One FC of the unit's 4 gates (vector at args offset V, tail count at T, records at R):
 * biases from the stream, an odd block then pairs (the args pointer on the stack meanwhile,
 * its register the vector's end), the leftover columns, the requantization; r0 = (i, f),
 * r2 = (g, o) int16 pairs. */
#define LSTM_S8_FC(V, T, R)                                                                    \
    "ldr lr, [%[a], #" V "]\n\t"                                                               \
    "ldmia %[w]!, {r0, r1, r2, r3}\n\t"                                                        \
    "push {%[a]}\n\t"                                                                          \
    "ldr %[a], [%[a], #" V " + 4]\n\t"                                                         \
    "subs r4, %[a], lr\n\t"                                                                    \
    "beq 2f\n\t"                                                                               \
    "tst r4, #8\n\t"                                                                           \
    "beq 1f\n\t" LSTM_S8_BLOCK                                                                 \
    "cmp lr, %[a]\n\t"                                                                         \
    "beq 2f\n\t"                                                                               \
    "1:\n\t" LSTM_S8_BLOCK LSTM_S8_BLOCK                                                       \
    "cmp lr, %[a]\n\t"                                                                         \
    "bne 1b\n\t"                                                                               \
    "2:\n\t"                                                                                   \
    "pop {%[a]}\n\t"                                                                           \
    "ldr r11, [%[a], #" T "]\n\t"                                                              \
    "cmp r11, #0\n\t"                                                                          \
    "beq 3f\n\t"                                                                               \
    "ldmia lr, {r4, r5}\n\t" LSTM_S8_COLUMN("r4", "b")                                         \
    "cmp r11, #1\n\t"                                                                          \
    "beq 3f\n\t" LSTM_S8_COLUMN("r5", "b")                                                     \
    "cmp r11, #2\n\t"                                                                          \
    "beq 3f\n\t" LSTM_S8_COLUMN("r4", "t")                                                     \
    "3:\n\t"                                                                                   \
    "add r12, %[a], #" R "\n\t"                                                                \
    LSTM_S8_RQ("r0") LSTM_S8_RQ("r1") LSTM_S8_RQ("r2") LSTM_S8_RQ("r3")                        \
    "pkhbt r0, r0, r1, lsl #16\n\t"                                                            \
    "pkhbt r2, r2, r3, lsl #16\n\t"

/* The unit's 4 gate pre-activations sat16(sat16(FC(x)) + sat16(FC(h))) as int16 pairs
 * (i, f), (g, o) (QADD16); returns the stream past the unit. */
static inline const int8_t *lstm_s8_gates(const int8_t *w, const lstm_s8_args *a,
                                          uint32_t *if_pair, uint32_t *go_pair)
{
    register uint32_t p01 __asm__("r0");
    register uint32_t p23 __asm__("r2");
    __asm__ volatile(LSTM_S8_FC("0", "8", "24")
                     "push {r0, r2}\n\t"
                     LSTM_S8_FC("12", "20", "72")
                     "pop {r4, r5}\n\t"
                     "qadd16 r0, r4, r0\n\t"
                     "qadd16 r2, r5, r2\n\t"
                     : "=&r"(p01), "=&r"(p23), [w] "+r"(w), [a] "+r"(a)
                     :
                     : "r1", "r3", "r4", "r5", "r8", "r9", "r10", "r11", "r12", "lr", "cc",
                       "memory");
    *if_pair = p01;
    *go_pair = p23;
    return w;
}

/* int16 LOGISTIC of a Q3.12 gate (x = 3 * pre, |x| >> 9 <= 192): 16384 -+ the rounded
 * interpolation of table[|x| >> 9] and its neighbour, one SMLAD on the pair. */
static inline int32_t lstm_s8_sigmoid(int32_t pre, const int16_t *table)
{
    const int32_t x = 3 * pre, s = x >> 31;
    const uint32_t a = (uint32_t)((x ^ s) - s), al = a & 511u;
    uint32_t pair;
    int32_t v;
    memcpy(&pair, table + (a >> 9), 4);
    v = fitml_smlad(pair, (al << 16) + 512u - al, 512) >> 10;
    return 16384 + ((v ^ s) - s);
}

/* int16 TANH of a rescaled input: |x| clamped to 65535 (table[256] == table[255] makes that
 * TFLM's saturation), -+ the rounded interpolation. */
static inline int32_t lstm_s8_tanh(int32_t x, const int16_t *table)
{
    const int32_t s = x >> 31;
    const uint32_t a = (uint32_t)__usat((x ^ s) - s, 16), al = a & 255u;
    uint32_t pair;
    int32_t v;
    memcpy(&pair, table + (a >> 8), 4);
    v = fitml_smlad(pair, (al << 16) + 256u - al, 128) >> 8;
    return (v ^ s) - s;
}

#endif /* FITML_LSTM_S8_GATES_H */
