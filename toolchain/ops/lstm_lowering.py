"""C lowering of UNIDIRECTIONAL_SEQUENCE_LSTM: fitml_lstm_s8 / fitml_lstm_f32 (fitml_lstm.h).

The four gates' weights are packed into one [4][units][...] array per kind (the model's
separate tensors are then not emitted); every integer comes from lstm_math, the reference's
own derivation. The states live in the kernel's scratch, zeroed at each call. DSP builds get
instead one int16 layout (filter_dsp: pre-widened doubled weights per 4 units, then the
sigmoid/tanh interpolation tables), when the SMMLAR path is proven and flash allows; without
it (flash) the int8 weights and biases reordered for the DSP kernel (weights_dsp,
lstm_s8_stream), the same bytes.
"""
from __future__ import annotations

import numpy as np

from ..lowering import cdsp, cparams, cvariant
from ..lowering.ccall import CArray, CCall, Scratch
from ..arith import fixedpoint as fp
from . import int16_nonlinear as nl
from . import lstm_math as lm
from . import lstm_s8_stream


def _words(n: int) -> int:
    return 2 * ((n + 3) // 4)


def scratch_bytes_s8(n_in: int, units: int) -> int:
    """fitml_lstm_s8_scratch_size: widened x and h, cell, 4 gates (int16), hidden (int8)."""
    return (4 * (_words(n_in) + _words(units)) + 11 * units + 3) & ~3


def dsp_fast(p: lm.Int8Lstm) -> bool:
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


def dsp_layout(p: lm.Int8Lstm) -> np.ndarray:
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


def lerp_exact(p: lm.Int8Lstm, tanh_m: int, tanh_s: int) -> bool:
    """The tables reproduce the int16 LOGISTIC / TANH bit for bit on every int16 gate input
    and every cell state (its own rescale)."""
    sig, tanh = lerp_tables()
    q = np.arange(-32768, 32768, dtype=np.int64)
    cell = (q * tanh_m + ((1 << (tanh_s - 1)) if tanh_s > 0 else 0)) >> tanh_s
    return (np.array_equal(lerp_eval(sig, SIGMOID_Q[0], 3 * q, 9, 10), nl.logistic_s16(q, 0, 0))
            and np.array_equal(lerp_eval(tanh, TANH_Q[0], 3 * q, 8, 8), nl.tanh_s16(q, 0, 0))
            and np.array_equal(lerp_eval(tanh, TANH_Q[0], cell, 8, 8),
                               nl.tanh_s16(q, *p.cell_tanh)))


def _shape(node) -> dict:
    batch, time, n_in, units = lm.sizes(node.op, node.ins)
    return dict(batches=batch, time_steps=time, input_size=n_in, units=units,
                time_major=int(bool(node.attr("time_major", False))))


def lower(node) -> CCall:
    if not lm.zero_state(node.ins):
        raise cparams.unsupported(node, "the C kernel starts from a zero state")
    shape = _shape(node)
    io = (cparams.ref(node.ins[0]), cparams.ref(node.outs[0]), Scratch())
    if not node.quantized:
        def stack(idx):
            return CArray(np.stack([np.asarray(node.ins[i].data, np.float32) for i in idx]),
                          "float", role="weights")
        return CCall("fitml_lstm_f32", "fitml_lstm_f32_params",
                     dict(shape, input_weights=stack(lm.INPUT_W),
                          recurrent_weights=stack(lm.RECURRENT_W), bias=stack(lm.BIAS),
                          cell_clip=float(np.float32(node.attr("cell_clip", 0.0)))),
                     io, scratch_bytes=6 * 4 * shape["units"])
    if any(node.ins[i].quant.zp != 0 for i in lm.INPUT_W + lm.RECURRENT_W):
        raise cparams.unsupported(node, "weight zero points must be 0")
    p = lm.int8_params(node.ins, float(node.attr("cell_clip", 0.0)))
    tanh_m, tanh_s = p.cell_tanh
    if tanh_m == 0:                 # TFLM's power-of-two case: multiplier 3 << shift
        tanh_m, tanh_s = 3 << tanh_s, 0
    if tanh_m > 32767:
        raise cparams.unsupported(node, "cell state scale too large for the int16 tanh")

    def i32(v):
        return CArray(fp.wrap32(v).astype(np.int32), "int32_t", role="weights")
    fast = dsp_fast(p)
    # The DSP kernel's int16 layout replaces the int8 weights (only src/dsp reads it: MVE builds
    # link the portable kernel), unless clayouts gave it up for flash; then the int8 weights and
    # biases in the DSP kernel's order (no more flash than the plain ones).
    dsp = fast and cvariant.current_variant() == "dsp"
    layout = dsp and cvariant.wants_layout(node) and lerp_exact(p, tanh_m, tanh_s)
    stream = dsp and not layout and lstm_s8_stream.exact(tanh_m, tanh_s)
    w_in, w_rec = ("NULL", "NULL") if layout or stream else (
        CArray(p.w_in.astype(np.int8), "int8_t", role="weights"),
        CArray(p.w_rec.astype(np.int8), "int8_t", role="weights"))
    params = dict(
        shape, input_weights=w_in, recurrent_weights=w_rec,
        input_bias="NULL" if stream else i32(p.bias_in),
        recurrent_bias="NULL" if stream else i32(p.bias_rec),
        input_multiplier=[m for m, _ in p.mult_in], input_shift=[s for _, s in p.mult_in],
        recurrent_multiplier=[m for m, _ in p.mult_rec],
        recurrent_shift=[s for _, s in p.mult_rec],
        forget_multiplier=p.forget_mul[0], forget_shift=p.forget_mul[1],
        update_multiplier=p.update_mul[0], update_shift=p.update_mul[1],
        hidden_multiplier=p.hidden_mul[0], hidden_shift=p.hidden_mul[1],
        hidden_zp=p.hidden_zp, cell_clip=p.cell_clip, cell_tanh_multiplier=tanh_m,
        cell_tanh_shift=tanh_s, dsp_fast=int(fast),
        sigmoid_table=CArray(lstm_s8_stream.table() if stream else nl.sigmoid_table(),
                             "int16_t"),
        filter_dsp=CArray(np.concatenate([dsp_layout(p).ravel()] + [
            cdsp.int16_words(t).ravel() for t in lerp_tables()]), "int16_t", role="weights")
        if layout else "NULL",
        weights_dsp=CArray(lstm_s8_stream.stream(p), "int8_t", role="weights")
        if stream else "NULL")
    return CCall("fitml_lstm_s8", "fitml_lstm_s8_params", params, io,
                 scratch_bytes=scratch_bytes_s8(shape["input_size"], shape["units"]))
