"""The int8 CONV_2D kernel call and the scratch sizes of the conv and depthwise kernels.

conv_s8_call serves CONV_2D and grouped / rearranged depthwise filters alike: the portable
fields (cparams), plus the DSP kernel's fast records and int16 layout where they pay (cdsp).
The scratch sizes mirror fitml_support.h, so every kernel variant gets the bytes it needs.
"""
from __future__ import annotations

import numpy as np

from ..arith import kernel_math as km
from ..ir import Node
from . import cdsp, cparams, cvariant
from .ccall import CCall, Scratch

def conv_scratch_bytes(geom: dict) -> int:
    """fitml_conv_s8_scratch_bytes (fitml_support.h): what every variant of the kernel needs."""
    f = geom["filter"]
    depth = f["h"] * f["w"] * f["c"]
    d8 = (depth + 7) // 8 * 8               # the DSP int8 pass takes 4-deep blocks in pairs
    if f["c"] == geom["input"]["c"]:        # no groups: the DSP kernel's 4 widened patches
        return 9 * d8 + 4 * geom["output"]["c"]
    in_place = f["h"] == f["w"] == 1 and geom["pad_h"] == geom["pad_w"] == 0
    return 0 if in_place else depth


def depthwise_dsp_ok(geom: dict, multiplier: int) -> bool:
    """fitml_depthwise_dsp_ok: 3x3, depth multiplier 1, no dilation, channels % 4 == 0."""
    f = geom["filter"]
    return (multiplier == 1 and f["h"] == f["w"] == 3 and geom["dilation_h"] == 1
            and geom["dilation_w"] == 1 and geom["output"]["c"] % 4 == 0)


def depthwise_scratch_bytes(geom: dict, multiplier: int) -> int:
    """fitml_depthwise_conv_s8_scratch_bytes: accumulators, or the DSP path's blocks of taps
    and records (34 bytes per channel of a chunk of <= 32) and one 4-channel group's widened
    input rows (5 rows of 8 bytes per padded pixel)."""
    acc = 4 * geom["output"]["c"]
    if not depthwise_dsp_ok(geom, multiplier):
        return acc
    width = (geom["output"]["w"] - 1) * geom["stride_w"] + 3
    return max(acc, 34 * min(geom["output"]["c"], 32) + 40 * width)


def conv_s8_call(node: Node, filt: np.ndarray, filter_value, mult, shift) -> CCall:
    """The int8 CONV_2D kernel call for `filt` [C_out][KH][KW][C_in/groups] (given to C as
    `filter_value`: the weight tensor, or a CArray of a rearranged filter), with the DSP
    kernel's fast records and, where it pays, its int16 layout (which then stands alone in a
    DSP build); the scratch holds im2col patches (the DSP kernel widens 4 at a time, see
    fitml_support.h)."""
    x = node.ins[0]
    geom = cparams.conv_geom(node, filt.shape)
    rows = np.asarray(filt).reshape(filt.shape[0], -1)     # int8: helpers widen per use
    grouped = filt.shape[3] != x.shape[3]         # the DSP kernel runs the portable code
    fast = ("NULL" if grouped or not cvariant.fast_kernels()
            else cdsp.fast_requant(node, rows, mult, shift, False))
    filter_dsp, fast = cdsp.conv_dsp_layout(node, rows, fast, grouped)
    params = dict(geom=geom, filter=filter_value, input_zp=km.qparams(x)[1],
                  **cparams.int8_fields(node, rows.sum(axis=1, dtype=np.int64), mult, shift),
                  fast_requant=fast, filter_dsp=filter_dsp)
    plain = {}
    if not isinstance(filter_dsp, str) and cvariant.current_variant() == "dsp":
        # the DSP kernel reads only the layout (the MVE one reads the int8 filter): no int8
        # copy in flash; the scratch-free twin, which reads it, takes it back
        params["filter"], plain = "NULL", {"filter": filter_value}
    return CCall("fitml_conv_s8", "fitml_conv_s8_params", params, cparams.io(node, Scratch()),
                 scratch_bytes=conv_scratch_bytes(geom), plain_params=plain)

