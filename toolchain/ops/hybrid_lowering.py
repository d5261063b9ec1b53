"""C lowering of the hybrid CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (float32
activations, int8/int4 weights): the runtime's `fitml_*_hybrid_f32` kernels, the ops' HYBRID
variants.

The kernels quantize each batch (FC: each row) of the float input on the fly into caller-owned
scratch with LiteRT's quantizers, as `hybrid.py` does, so the scratch holds one batch's int8
codes. Filter scales go to C as float32 exactly as the reference reads them.
"""
from __future__ import annotations

import numpy as np

from ..lowering import cparams
from ..lowering.ccall import CArray, CCall, Scratch
from . import hybrid
from .registry import HYBRID, Node, variant


def _scales(w, count: int | None = None) -> CArray:
    scales = np.asarray(w.quant.scale, np.float32)
    return CArray(scales[:count], "float")


@variant("CONV_2D", HYBRID, "lower_c")
def conv(node: Node) -> CCall:
    """fitml_conv_hybrid_f32: symmetric inputs and scale[0], or (per_channel) asymmetric."""
    x, w = node.ins[0], node.ins[1]
    per_channel = hybrid.conv_per_channel(node)
    params = dict(geom=cparams.conv_geom(node, w.shape), filter=cparams.ref(w),
                  scales=_scales(w, None if per_channel else 1), per_channel=int(per_channel),
                  **cparams.float_fields(node))
    return CCall("fitml_conv_hybrid_f32", "fitml_conv_hybrid_f32_params", params,
                 cparams.io(node, Scratch()), scratch_bytes=int(np.prod(x.shape[1:])))


@variant("DEPTHWISE_CONV_2D", HYBRID, "lower_c")
def depthwise(node: Node) -> CCall:
    """fitml_depthwise_conv_hybrid_f32: asymmetric inputs, one filter scale per channel."""
    x, w = node.ins[0], node.ins[1]
    cout = w.shape[3]
    if w.quant.scale.size != cout:
        raise cparams.unsupported(node, f"hybrid depthwise needs {cout} per-channel filter "
                                  f"scales, got {w.quant.scale.size} (as LiteRT)")
    params = dict(geom=cparams.conv_geom(node, w.shape), depth_multiplier=cout // x.shape[3],
                  filter=cparams.ref(w), scales=_scales(w), **cparams.float_fields(node))
    return CCall("fitml_depthwise_conv_hybrid_f32", "fitml_depthwise_conv_hybrid_f32_params",
                 params, cparams.io(node, Scratch()), scratch_bytes=int(np.prod(x.shape[1:])))


@variant("FULLY_CONNECTED", HYBRID, "lower_c")
def fully_connected(node: Node) -> CCall:
    """fitml_fully_connected_hybrid_f32: per-row symmetric (or asymmetric) inputs."""
    x, w = node.ins[0], node.ins[1]
    n, k = w.shape
    act = node.attr("activation", "NONE")
    if act not in cparams.CLAMP_ACTIVATIONS:   # hybrid FC applies TANH/SIGN_BIT for real
        raise cparams.unsupported(node, f"hybrid fused activation {act}")
    if w.quant.scale.size not in (1, n):
        raise cparams.unsupported(node, f"{w.quant.scale.size} filter scales for {n} outputs")
    params = dict(batches=x.size // k, input_size=k, output_size=n, filter=cparams.ref(w),
                  scales=_scales(w), per_channel=int(w.quant.scale.size > 1),
                  asymmetric=int(bool(node.attr("asymmetric_quantize_inputs", False))),
                  **cparams.float_fields(node))
    return CCall("fitml_fully_connected_hybrid_f32", "fitml_fully_connected_hybrid_f32_params",
                 params, cparams.io(node, Scratch()), scratch_bytes=k)
