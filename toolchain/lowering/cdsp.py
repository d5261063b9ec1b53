"""DSP/MVE kernel specializations (runtime_c/src/dsp): extra arrays the portable C ignores.

Fast requantization records, the pre-widened int16 weight layouts of conv and FC, the
reordered int8 FC filter, ADD/SUB tables and the SXTB16 block order of 16x8 filters. Each
layout builder returns "NULL" where the fast path cannot be proven exact or the layout is not
wanted (cvariant.wants_layout), so the kernel falls back to its int8 path, bit-exact either way.
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..arith import kernel_math as km
from ..ir import Node
from . import cparams, cvariant
from .ccall import CArray

def acc_bounds(w_rows: np.ndarray, bias: np.ndarray, zp_in: int) -> np.ndarray:
    """Per output channel, the largest |acc| any int8 input can give: sum|w| * max|x - zp_in|
    + |bias| (padded taps read zp_in and add nothing)."""
    span = max(127 - int(zp_in), int(zp_in) + 128)
    wide = np.int16 if w_rows.dtype.itemsize == 1 else np.int64   # |-128| needs 16 bits
    return (np.abs(w_rows.astype(wide)).sum(axis=1, dtype=np.int64) * span
            + np.abs(bias.astype(np.int64)))


def fast_requant(node: Node, w_rows: np.ndarray, mult, shift, pre_doubled: bool):
    """FITML_FAST_REQUANT records {acc_init, multiplier, round, right_shift} per channel, or NULL
    when the fast path cannot be proven exact (see fitml_types.h): it needs a right shift
    (shift <= -1) and |acc| < 2^30 for every int8 input so that 2*acc and the rounding sums
    stay within int32. acc_init is the folded bias, doubled when the kernel's filter is."""
    cout = w_rows.shape[0]
    mult = np.broadcast_to(np.asarray(mult, np.int64), (cout,))
    shift = np.broadcast_to(np.asarray(shift, np.int64), (cout,))
    zp_in, zp_out = km.qparams(node.ins[0])[1], km.qparams(node.outs[0])[1]
    bias_t = cparams.bias_of(node)
    bias = np.zeros(cout, np.int64) if bias_t is None else bias_t.data.astype(np.int64)
    bound = acc_bounds(w_rows, bias, zp_in)
    init = (bias - zp_in * w_rows.sum(axis=1, dtype=np.int64)) * (2 if pre_doubled else 1)
    # Channels whose output cannot depend on the input get {0, m = 0, 2 * out + 1, 1}, which
    # yields `out` without large constants: all-zero filters (acc == bias) and channels whose
    # |SRDHM(acc, m)| <= bound + 1 stays below 2^(e-1) (the output is always zp).
    e = np.minimum(-shift, 62)
    dead = ~np.any(w_rows != 0, axis=1)
    small = (shift < 0) & (bound + 1 < (np.int64(1) << np.maximum(e - 1, 0)))
    const = dead | small
    lo, hi = km.output_bounds(node.attr("activation", "NONE"), node.outs[0])
    value = np.where(dead, km.requantize(fp.wrap32(bias), mult, shift, zp_out, lo, hi), zp_out)
    mult, e = np.where(const, 0, mult), np.where(const, 1, e)
    init, bound = np.where(const, 0, init), np.where(const, 0, bound)
    if np.any(shift[~const] > -1) or np.any(bound >= 1 << 30):
        return "NULL"
    rnd = np.where(const, 2 * value.astype(np.int64) + 1,
                   (np.int64(1) << (e - 1)) + np.int64(zp_out) * (np.int64(1) << e))
    if np.any(bound + 2 + np.abs(rnd) >= 1 << 31):
        return "NULL"
    return cparams.i32(np.stack([init, mult, rnd, e], axis=1))


def int16_words(words) -> np.ndarray:
    """int32 words as little-endian int16 halves (one int16 array mixing both)."""
    return np.ascontiguousarray(np.asarray(words, np.int64).astype(np.int32)).view(np.int16)


# Conv layers get the DSP kernel's int16 4-channel layout when their patch has at most this
# many taps (where the int8 path's per-channel work dominates) or their filter at most this
# many weights: it costs 2 bytes of flash per weight (the int8 filter stays for the portable
# kernel), so large filters keep the int8 path.
CONV_DSP_I16_MAX_DEPTH = 64
CONV_DSP_I16_MAX_WEIGHTS = 8192


def conv_dsp_layout(node: Node, rows: np.ndarray, fast, grouped: bool) -> tuple:
    """(filter_dsp, fast_requant) of a CONV_2D for the DSP kernel's int16 path, or
    ("NULL", fast) to keep its int8 path. The int16 path needs no groups, C_out % 4 == 0 and
    the fast records (a fused activation range clamps after SSAT); it computes 4 channels of
    one pixel per pass from filter_dsp [C_out/4][depth4/4][4 channels][4 int16]: taps
    (k0, k2, k1, k3) of each 4-deep block, doubled, and regroups the records per 4 channels as
    {init0..3 (doubled), (m, round, shift) x 4}."""
    if not cvariant.wants_layout(node):
        return "NULL", fast
    cout, depth = rows.shape
    if (isinstance(fast, str) or grouped or cout % 4
            or (depth > CONV_DSP_I16_MAX_DEPTH and rows.size > CONV_DSP_I16_MAX_WEIGHTS)):
        return "NULL", fast
    taps = dual_mac_taps(rows, cout // 4)
    rec = fast.values.astype(np.int64).reshape(cout // 4, 4, 4)      # acc_init not doubled yet
    grouped = np.concatenate([2 * rec[:, :, 0], rec[:, :, 1:].reshape(cout // 4, 12)], axis=1)
    return CArray(taps, "int16_t", role="weights"), cparams.i32(grouped)


def addsub_lut(node: Node, zp1: int, zp2: int, zp_out: int, params, sign: int):
    """FITML_ADD_LUT words of an int8 ADD (sign 1) / SUB (-1) for the DSP kernel, or NULL (also
    when the layer keeps its plain path to fit the flash: cvariant.wants_layout).

    Each input's rescaling (shift by 20, then its own MBQM) depends on its code alone, so it
    is tabulated (doubled, the SUB operand negated); the kernel adds two table words and
    requantizes with a fast record, which needs the sum's bound below 2^30 and a right shift."""
    if not cvariant.wants_layout(node):
        return "NULL"
    (m1, e1), (m2, e2), (mo, eo) = params
    q = np.arange(-128, 128, dtype=np.int64)
    t1 = fp.rdbpot(fp.srdhm((q - zp1) << 20, m1), -e1)
    t2 = sign * fp.rdbpot(fp.srdhm((q - zp2) << 20, m2), -e2)
    bound = int(np.abs(t1).max() + np.abs(t2).max())
    if eo > -1 or eo < -30 or bound >= 1 << 30:
        return "NULL"
    rnd = (1 << (-eo - 1)) + zp_out * (1 << -eo)
    if bound + 2 + abs(rnd) >= 1 << 31:
        return "NULL"
    return cparams.i32(np.concatenate([2 * t1, 2 * t2, [mo, rnd, -eo]]))


def dual_mac_taps(rows: np.ndarray, groups: int) -> np.ndarray:
    """Doubled int16 taps [groups][depth4/4][4 rows][k0, k2, k1, k3] (SXTB16 lane order) of
    int8 rows [n][depth], padded with zero rows and columns."""
    n, depth = rows.shape
    d4 = (depth + 3) // 4 * 4
    taps = np.pad(rows, ((0, 4 * groups - n), (0, d4 - depth))).reshape(groups, 4, d4 // 4, 4)
    return taps.transpose(0, 2, 1, 3)[..., [0, 2, 1, 3]].astype(np.int16) * np.int16(2)


def fc_dsp_layout(node: Node, rows: np.ndarray, mult, shift):
    """filter_dsp of an int8 FULLY_CONNECTED for the DSP kernel, or "NULL" (portable path).

    Rows are computed 4 at a time; per group one int16 stream: {init0..3 (doubled folded
    bias), taps [depth4/4][4 rows][4] (dual_mac_taps), (m, round, shift) x 4}. Rows padded
    to a multiple of 4 get {0, 0, 1, 1} records (their output, 0, is not stored). Needs the
    fast requantization (a fused activation range clamps after SSAT)."""
    if not cvariant.wants_layout(node):
        return "NULL"
    n = rows.shape[0]
    fast = fast_requant(node, rows, mult, shift, pre_doubled=True)
    if isinstance(fast, str):
        return "NULL"
    g = (n + 3) // 4
    rec = np.concatenate([fast.values.astype(np.int64).reshape(n, 4),
                          np.tile([0, 0, 1, 1], (4 * g - n, 1))]).reshape(g, 4, 4)
    parts = [int16_words(rec[:, :, 0]).reshape(g, 8), dual_mac_taps(rows, g).reshape(g, -1),
             int16_words(rec[:, :, 1:].reshape(g, 12)).reshape(g, 24)]
    return CArray(np.concatenate(parts, axis=1), "int16_t", role="weights")


def fc_int8_filter(rows: np.ndarray) -> CArray:
    """The int8 FULLY_CONNECTED filter [N][K] as the DSP kernel reads it without a pre-widened
    layout (runtime_c/src/dsp/fitml_dsp_fc8.h), same size: rows in quads, then a pair, then a
    single row. A pair (A, B) stores per 4-deep block k two words [B_k ^ 0x80, A_k,
    B_k+2 ^ 0x80, A_k+2] and [.. k+1, k+3 ..] (int16 lanes 256 A + B + 128: one SXTB16 and two
    SMLADs give both rows), a quad its two pairs' words block by block; then each row's last
    K % 4 weights in order. A single row is stored in order."""
    w = np.asarray(rows, np.int8)
    n, k = w.shape
    full = k // 4 * 4
    parts, r0 = [], 0
    while r0 < n:
        size = 4 if n - r0 >= 4 else 2 if n - r0 >= 2 else 1
        group = w[r0:r0 + size]
        if size == 1:
            parts.append(group.ravel())
        else:
            blocks = group[:, :full].reshape(size // 2, 2, -1, 4)      # [pair][A|B][block][4]
            a, b = blocks[:, 0], blocks[:, 1].view(np.uint8) ^ np.uint8(0x80)
            words = np.stack([b.view(np.int8), a], axis=-1)             # [pair][block][4][B, A]
            words = words[:, :, [0, 2, 1, 3]].reshape(size // 2, -1, 2, 4)   # word0, word1
            parts += [words.transpose(1, 0, 2, 3).ravel(), group[:, full:].ravel()]
        r0 += size
    return CArray(np.concatenate(parts).astype(np.int8), "int8_t", role="weights")


def s16_dsp_filter(rows: np.ndarray, unit: int) -> CArray:
    """int8 filter rows of a 16x8 CONV_2D / FULLY_CONNECTED for the DSP kernels
    (runtime_c/src/dsp/fitml_dsp_s16.h): each row cut into units of `unit` weights, and in each
    unit the blocks of 4 stored (k0, k2, k1, k3), so SXTB16 / SXTB16 ROR 8 of a block's word
    give the int16 pairs (k0, k1), (k2, k3) that meet two int16 inputs read as one word; the
    last unit % 4 weights of a unit stay in order. Same size as the filter."""
    n = rows.shape[0]
    units = np.asarray(rows, np.int8).reshape(n, -1, unit)
    full = unit // 4 * 4
    blocks = units[:, :, :full].reshape(n, units.shape[1], full // 4, 4)[..., [0, 2, 1, 3]]
    out = np.concatenate([blocks.reshape(n, units.shape[1], full), units[:, :, full:]], axis=2)
    return CArray(out, "int8_t", role="weights")
