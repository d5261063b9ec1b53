"""C lowering of int8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with int4 filters: the
runtime's `fitml_*_s8s4` kernels (runtime_c/include/fitml/fitml_int4.h), the ops' INT8x4
variants (their reference is the int8 one: the filter's values are unpacked).

The filter goes to C packed as TFLite stores it (two values per byte, low nibble first), as a
weights-role array, so an int4 layer's filter takes half the flash of an int8 one; the kernels
unpack it on the fly. Bias folding and requantization are the int8 ones, computed from the
same unpacked values the reference multiplies.
"""
from __future__ import annotations

import numpy as np

from ..lowering import cparams
from ..lowering.ccall import CArray, CCall, Scratch
from . import common
from .fc_multipliers import multipliers
from .registry import INT8x4, Node, variant


def packed(w) -> CArray:
    """The int4 filter packed two per byte, low nibble first (the TFLite buffer)."""
    v = (np.asarray(w.data, np.int8).reshape(-1) & 0x0F).astype(np.uint8)
    if v.size % 2:
        v = np.append(v, np.uint8(0))
    return CArray(v[0::2] | (v[1::2] << 4), "uint8_t", role="weights")


def _fields(node: Node, sums: np.ndarray, mult, shift) -> dict:
    """Folded bias, requantization, output zero point and clamp (as the int8 kernels')."""
    out = node.outs[0]
    lo, hi = common.output_bounds(node.attr("activation", "NONE"), out)
    return dict(bias=cparams.folded_bias(node, sums, common.qparams(node.ins[0])[1]),
                requant=cparams.requant(mult, shift), output_zp=out.quant.zp,
                act_min=lo, act_max=hi)


@variant("CONV_2D", INT8x4, "lower_c")
def conv(node: Node) -> CCall:
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    cout = w.shape[0]
    geom = cparams.conv_geom(node, w.shape)
    sums = np.asarray(w.data, np.int64).reshape(cout, -1).sum(axis=1)
    mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, cout)
    params = dict(geom=geom, filter=packed(w), **_fields(node, sums, mult, shift))
    params["input_zp"] = common.qparams(x)[1]
    in_place = w.shape[1] == w.shape[2] == 1 and geom["pad_h"] == geom["pad_w"] == 0
    return CCall("fitml_conv_s8s4", "fitml_conv_s8s4_params", _ordered(params, CONV),
                 cparams.io(node, Scratch()),
                 scratch_bytes=0 if in_place else int(np.prod(w.shape[1:])))


@variant("DEPTHWISE_CONV_2D", INT8x4, "lower_c")
def depthwise(node: Node) -> CCall:
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    cout = w.shape[3]
    sums = np.asarray(w.data, np.int64).reshape(-1, cout).sum(axis=0)
    mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, cout)
    params = dict(geom=cparams.conv_geom(node, w.shape), depth_multiplier=cout // x.shape[3],
                  filter=packed(w), input_zp=common.qparams(x)[1],
                  **_fields(node, sums, mult, shift))
    return CCall("fitml_depthwise_conv_s8s4", "fitml_depthwise_conv_s8s4_params",
                 _ordered(params, DEPTHWISE), cparams.io(node, Scratch()), scratch_bytes=4 * cout)


@variant("FULLY_CONNECTED", INT8x4, "lower_c")
def fully_connected(node: Node) -> CCall:
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    n, k = w.shape
    if w.quant.scale.size == 1 and w.quant.zp != 0:
        raise cparams.unsupported(node, "filter zero point must be 0 (as TFLM)")
    mult, shift = multipliers(x.quant.s, w, out.quant.s)
    sums = np.asarray(w.data, np.int64).sum(axis=1)
    params = dict(batches=x.size // k, input_size=k, output_size=n, filter=packed(w),
                  **_fields(node, sums, mult, shift))
    return CCall("fitml_fully_connected_s8s4", "fitml_fully_connected_s8s4_params",
                 _ordered(params, FC), cparams.io(node))


# field order of the C structs (designated initializers need no order; this keeps C readable)
CONV = ("geom", "filter", "bias", "requant", "input_zp", "output_zp", "act_min", "act_max")
DEPTHWISE = ("geom", "depth_multiplier") + CONV[1:]
FC = ("batches", "input_size", "output_size", "filter", "bias", "requant", "output_zp",
      "act_min", "act_max")


def _ordered(params: dict, order) -> dict:
    return {k: params[k] for k in order}
