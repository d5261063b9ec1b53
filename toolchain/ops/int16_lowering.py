"""C lowering of 16x8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: the runtime's
`fitml_*_s16` kernels (runtime_c/include/fitml/fitml_int16.h), the ops' INT16x8 variants.

No folded bias (zero points are 0): the bias goes to C as int64 values (zeros when the model
has none), and `acc32` picks TFLM's int32-accumulator path for an int32 model bias. The
requantization arrays are those the reference (ops/int16.py) multiplies with.

DSP/MVE builds (cvariant.fast_kernels) give conv and FC the filter in the SXTB16 block order
of runtime_c/src/dsp/fitml_dsp_s16.h (cdsp.s16_dsp_filter): the units are a filter row's
KW * C_in taps for a conv without groups and x dilation, one tap's C_in / groups else, an FC
row. Depthwise keeps the model's filter. DSP/MVE builds also append per-channel requantization
records to the bias array (`fast_records`); the portable kernels read only its first C_out.
"""
from __future__ import annotations

import numpy as np

from ..lowering import cdsp, cparams, cvariant
from ..lowering.ccall import CArray, CCall
from . import common, int16
from .fc_multipliers import multipliers
from .registry import INT16x8, Node, variant


def fast_records(rows: np.ndarray, bias: np.ndarray, mult, shift, wide: bool) -> np.ndarray:
    """[C_out, 2] int64 requantization records of runtime_c/src/dsp/fitml_dsp_s16.h
    (fitml_s16_out). `rows`: each output channel's int8 weights. A channel on the 32-bit path
    gets {C, M + E * 2^32}, E >= 0: its output is clamp((int32)((acc * M + C) >> 32) >> E);
    the others {shift, multiplier + E * 2^32}, E = -1 (int64 accumulator) or -2 (acc32).

    fitml_mbqm64(y, m, s) with y = acc + bias is r = floor((y m' + 2^(t-1)) / 2^t), m' the
    16-bit reduced multiplier (<= 0x7FFF), t = 15 - s, whenever |y m'| + 2^(t-1) < 2^63 (no
    uint64 wrap), then truncated to int32. With M = m' 2^16 < 2^31, E = t - 16 and C = bias M
    + 2^(t+15): acc M + C = 2^16 (y m' + 2^(t-1)), so floor((acc M + C) / 2^(32+E)) = r, and
    the nested floor (high word, then >> E) is exact. A channel is fast when it has the int64
    accumulator, 16 <= t <= 47 (E in [0, 31]), and |y| <= sum|w| 32768 + |bias| < 2^31 for
    every int16 input: then the kernel's int32 sums never wrap, |acc M + C| < 2^62 + 2^62 does
    not overflow int64, and |r| < 2^30 is unchanged by the int32 truncation."""
    n = rows.shape[0]
    m = np.broadcast_to(np.asarray(mult, np.int64), (n,))
    s = np.broadcast_to(np.asarray(shift, np.int64), (n,))
    t = 15 - s
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    bound = np.abs(rows.astype(np.int64)).sum(axis=1) * 32768 + np.abs(bias)
    fast = wide & (bound < 2**31) & (t >= 16) & (t <= 47)
    big_m = np.where(fast, reduced << 16, m)
    e = np.where(fast, t - 16, -1 if wide else -2)
    c = np.where(fast, bias * np.where(fast, big_m, 0) + (np.int64(1) << np.clip(t + 15, 0, 62)),
                 s)
    return np.stack([c, big_m + (e << 32)], axis=1)


def _fields(node: Node, channels: int, mult, shift) -> dict:
    """bias, requant, acc32 and the clamp of a 16x8 weighted op, in the C struct's order; on
    DSP/MVE builds the bias array goes on with the `fast_records`."""
    bias_t = cparams.bias_of(node)
    bias = (np.zeros(channels, np.int64) if bias_t is None
            else np.asarray(bias_t.data, np.int64))
    if cvariant.fast_kernels():
        w = node.ins[1]
        if w.data is None:
            raise cparams.unsupported(node, "the DSP kernels need a constant filter")
        data = np.asarray(w.data)          # rows: each output channel's weights
        if node.op.kind == "DEPTHWISE_CONV_2D":
            rows = data.reshape(-1, channels).T
        else:
            rows = data.reshape(channels, -1)
        recs = fast_records(rows, bias, mult, shift, int16.wide(node))
        bias = np.concatenate([bias, recs.ravel()])
    lo, hi = int16.bounds(node)
    return dict(bias=CArray(bias, "int64_t", role="weights"), requant=cparams.requant(mult, shift),
                acc32=0 if int16.wide(node) else 1, act_min=lo, act_max=hi)


CONV_DSP_PATCH = 128     # fitml_conv_s16.c CONV16_PATCH


def conv_dsp_unit(node: Node) -> int:
    """Weights per unit of a conv's DSP filter (the kernel's rule, fitml_conv_s16.c): a whole
    row when it is gathered into the stack patch, a filter row's taps, or one tap."""
    x, w = node.ins[0], node.ins[1]
    _, kh, kw, cg = w.shape
    if cg != x.shape[3]:
        return cg
    if kh * kw * cg <= CONV_DSP_PATCH:
        return kh * kw * cg
    return kw * cg if node.attr("dilation", (1, 1))[1] == 1 else cg


def _filter(node: Node, unit: int):
    """The filter as C sees it: the model's tensor, or the DSP block order on DSP/MVE builds."""
    w = node.ins[1]
    if not cvariant.fast_kernels():
        return cparams.ref(w)
    if w.data is None:
        raise cparams.unsupported(node, "the DSP kernels need a constant filter")
    return cdsp.s16_dsp_filter(np.asarray(w.data).reshape(w.shape[0], -1), unit)


@variant("CONV_2D", INT16x8, "lower_c")
def conv(node: Node) -> CCall:
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    cout = w.shape[0]
    mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, cout)
    params = dict(geom=cparams.conv_geom(node, w.shape), filter=_filter(node, conv_dsp_unit(node)),
                  **_fields(node, cout, mult, shift))
    return CCall("fitml_conv_s16", "fitml_conv_s16_params", params, cparams.io(node))


@variant("DEPTHWISE_CONV_2D", INT16x8, "lower_c")
def depthwise(node: Node) -> CCall:
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    cout = w.shape[3]
    mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, cout)
    params = dict(geom=cparams.conv_geom(node, w.shape), depth_multiplier=cout // x.shape[3],
                  filter=cparams.ref(w), **_fields(node, cout, mult, shift))
    return CCall("fitml_depthwise_conv_s16", "fitml_depthwise_conv_s16_params", params,
                 cparams.io(node))


@variant("FULLY_CONNECTED", INT16x8, "lower_c")
def fully_connected(node: Node) -> CCall:
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    n, k = w.shape
    mult, shift = multipliers(x.quant.s, w, out.quant.s)
    params = dict(batches=x.size // k, input_size=k, output_size=n, filter=_filter(node, k),
                  **_fields(node, n, mult, shift))
    return CCall("fitml_fully_connected_s16", "fitml_fully_connected_s16_params", params,
                 cparams.io(node))
