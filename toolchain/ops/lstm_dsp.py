"""The DSP LSTM kernel's int16 layout and the proofs that it is exact: `dsp_fast` (the SMMLAR
requantization reproduces TFLM's), `dsp_layout` (pre-widened doubled weights per 4 units) and
the sigmoid/tanh interpolation tables (`lerp_tables`, checked on every input by `lerp_exact`).
"""
from __future__ import annotations

import numpy as np

from ..lowering import cdsp
from . import int16_nonlinear as nl
from . import lstm_int8 as li


def dsp_fast(p: li.Int8Lstm) -> bool:
    """The DSP kernel's SMMLAR requantization is exact: every shift a right shift e in
    [1, 31] whose rounding constant 2^(e-1) + zp * 2^e fits int32, and every accumulator
    below 2^30 (gate products are < 2^30 by the int16 ranges; the FCs by sum |w| * 128)."""
    pairs = [(s, 0) for _, s in p.mult_in + p.mult_rec + (p.forget_mul, p.update_mul)]
    pairs.append((p.hidden_mul[1], p.hidden_zp))
    for s, zp in pairs:
        e = -int(s)
        if not 1 <= e <= 31 or abs(zp * (1 << e)) + (1 << (e - 1)) >= 1 << 31:
            return False
    bound = max(int((np.abs(w).sum(axis=2) * 128 + np.abs(b)).max())
                for w, b in ((p.w_in, p.bias_in), (p.w_rec, p.bias_rec)))
    return bound < 1 << 30


def dsp_layout(p: li.Int8Lstm) -> np.ndarray:
    """filter_dsp of the DSP kernel: per gate, per group of 4 units (padded with zero rows), one
    int16 stream {input init0..3, input taps, recurrent init0..3, recurrent taps}: the inits
    are the folded biases as int32 words, the taps cdsp.dual_mac_taps (SXTB16 lane order),
    both doubled for the SMMLAR requantization (dsp_fast proves 2 * acc fits)."""
    units = p.w_in.shape[1]
    g = (units + 3) // 4
    parts = []
    for w, b in ((p.w_in, p.bias_in), (p.w_rec, p.bias_rec)):
        init = np.pad(2 * b, ((0, 0), (0, 4 * g - units))).reshape(4 * g, 4)
        taps = [cdsp.dual_mac_taps(w[k], g).reshape(g, -1) for k in range(4)]
        parts += [cdsp.int16_words(init).reshape(4 * g, 8), np.concatenate(taps)]
    return np.concatenate(parts, axis=1)


SIGMOID_Q = (-192, 192)     # x >> 9 of x = 3 * pre (pre int16): every gate input
TANH_Q = (-256, 256)        # x >> 8 clamped (SSAT #9): beyond, the int16 tanh saturates


def lerp_tables() -> tuple[np.ndarray, np.ndarray]:
    """{B, S} int32 pairs indexed by x >> 9 (sigmoid) / x >> 8 (tanh), signed, so that the
    int16 LOGISTIC is (B + (x & 511) * S) >> 10 and TANH (B + (x & 255) * S) >> 8 with no
    |x|, sign fix or saturation test: TFLM's interpolation between table[|q|] and its
    neighbour, its mirror for x < 0 folded into B and S (lerp_exact checks every input)."""
    ua = nl.sigmoid_table().astype(np.int64) + 32768

    def pairs(lo, hi, bits, top):      # top: B's constants for x >= 0 and x < 0
        q = np.arange(lo, hi)
        k = np.minimum(np.abs(q), 255)
        pos, neg = np.minimum(k, 254), np.maximum(k - 1, 0)
        b = np.where(q >= 0, (ua[pos] << bits) + top[0], top[1] - (ua[k] << bits))
        s = np.where(q >= 0, ua[pos + 1] - ua[pos], ua[k] - ua[neg])
        sat = (q >= 255) | (q <= -256)
        b = np.where(sat, np.where(q > 0, (0xFFFF << bits) + top[0], top[1] - (0xFFFF << bits)),
                     b)
        return np.stack([b, np.where(sat, 0, s)], axis=1)
    return (pairs(*SIGMOID_Q, 9, (1 << 9, (1 << 25) + (1 << 9) - 1)),
            pairs(*TANH_Q, 8, (-(1 << 23) + (1 << 7), (1 << 23) + (1 << 7) - 1)))


def lerp_eval(table: np.ndarray, lo: int, x: np.ndarray, bits: int, out_shift: int):
    """What the DSP kernel computes from a lerp_tables() table for rescaled inputs x."""
    q = np.clip(x >> bits, lo, lo + len(table) - 1) - lo
    b, s = table[q, 0], table[q, 1]
    return ((b + (x & ((1 << bits) - 1)) * s) >> out_shift).astype(np.int16)


def lerp_exact(p: li.Int8Lstm, tanh_m: int, tanh_s: int) -> bool:
    """The tables reproduce the int16 LOGISTIC / TANH bit for bit on every int16 gate input
    and every cell state (its own rescale)."""
    sig, tanh = lerp_tables()
    q = np.arange(-32768, 32768, dtype=np.int64)
    cell = (q * tanh_m + ((1 << (tanh_s - 1)) if tanh_s > 0 else 0)) >> tanh_s
    return (np.array_equal(lerp_eval(sig, SIGMOID_Q[0], 3 * q, 9, 10), nl.logistic_s16(q, 0, 0))
            and np.array_equal(lerp_eval(tanh, TANH_Q[0], 3 * q, 8, 8), nl.tanh_s16(q, 0, 0))
            and np.array_equal(lerp_eval(tanh, TANH_Q[0], cell, 8, 8),
                               nl.tanh_s16(q, *p.cell_tanh)))
