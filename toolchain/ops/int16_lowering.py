"""C lowering of 16x8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: the runtime's
`fitml_*_s16` kernels (runtime_c/include/fitml/fitml_int16.h).

No folded bias (zero points are 0): the bias goes to C as int64 values (zeros when the model
has none), and `acc32` picks TFLM's int32-accumulator path for an int32 model bias. The
requantization arrays are those the reference (ops/int16.py) multiplies with.

DSP/MVE builds (cparams.fast_kernels) give conv and FC the filter in the SXTB16 block order
of runtime_c/src/dsp/fitml_dsp_s16.h (cparams.s16_dsp_filter): the units are a filter row's
KW * C_in taps for a conv without groups and x dilation, one tap's C_in / groups else, an FC
row. Depthwise keeps the model's filter.
"""
from __future__ import annotations

import numpy as np

from ..backends import cparams
from ..backends.clower import CArray, CCall
from . import common, int16
from .registry import Node


def _fields(node: Node, channels: int, mult, shift) -> dict:
    """bias, requant, acc32 and the clamp of a 16x8 weighted op, in the C struct's order."""
    bias_t = cparams.bias_of(node)
    bias = (np.zeros(channels, np.int64) if bias_t is None
            else np.asarray(bias_t.data, np.int64))
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
    if not cparams.fast_kernels():
        return cparams.ref(w)
    if w.data is None:
        raise cparams.unsupported(node, "the DSP kernels need a constant filter")
    return cparams.s16_dsp_filter(np.asarray(w.data).reshape(w.shape[0], -1), unit)


def conv(node: Node) -> CCall:
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    cout = w.shape[0]
    mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, cout)
    params = dict(geom=cparams.conv_geom(node, w.shape), filter=_filter(node, conv_dsp_unit(node)),
                  **_fields(node, cout, mult, shift))
    return CCall("fitml_conv_s16", "fitml_conv_s16_params", params, cparams.io(node))


def depthwise(node: Node) -> CCall:
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    cout = w.shape[3]
    mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, cout)
    params = dict(geom=cparams.conv_geom(node, w.shape), depth_multiplier=cout // x.shape[3],
                  filter=cparams.ref(w), **_fields(node, cout, mult, shift))
    return CCall("fitml_depthwise_conv_s16", "fitml_depthwise_conv_s16_params", params,
                 cparams.io(node))


def fully_connected(node: Node) -> CCall:
    from .fully_connected import multipliers
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    n, k = w.shape
    mult, shift = multipliers(x.quant.s, w, out.quant.s)
    params = dict(batches=x.size // k, input_size=k, output_size=n, filter=_filter(node, k),
                  **_fields(node, n, mult, shift))
    return CCall("fitml_fully_connected_s16", "fitml_fully_connected_s16_params", params,
                 cparams.io(node))
