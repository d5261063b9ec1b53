"""ONNX converters of spatial rearrangements on NHWC values: Resize (nearest, linear),
DepthToSpace (DCR) and SpaceToDepth, onto TFLite's RESIZE_* / DEPTH_TO_SPACE / SPACE_TO_DEPTH.

Only the ONNX coordinate modes TFLite computes are mapped; the others are refused by name.
Nearest: asymmetric + floor (TFLite's plain), align_corners + round_prefer_ceil (TFLite's
align_corners rounds halves up), tf_half_pixel_for_nn + floor (half-pixel centres), and
half_pixel + round_prefer_floor on integer upscaling (which picks i // factor, as plain does).
Linear: half_pixel (pytorch_half_pixel when the output is larger than 1), align_corners,
asymmetric.
"""
from __future__ import annotations

import numpy as np

from .onnx_build import Builder
from .onnx_node import NHWC, OnnxNode, converter

NEAREST = {("asymmetric", "floor"): (False, False),
           ("align_corners", "round_prefer_ceil"): (True, False),
           ("tf_half_pixel_for_nn", "floor"): (False, True)}
LINEAR = {"half_pixel": (False, True), "pytorch_half_pixel": (False, True),
          "align_corners": (True, False), "asymmetric": (False, False)}


def out_hw(b: Builder, n: OnnxNode, shape) -> tuple[int, int]:
    """Output height and width from the constant sizes or scales (N and C must not change)."""
    if len(shape) != 4:
        raise b.error(f"Resize of a {len(shape)}-D input is not supported (4-D NCHW is)")
    if b.opset < 11:
        sizes, scales = None, b.const(n.input(1))
    else:
        sizes = b.const(n.input(3)) if n.input(3) else None
        scales = b.const(n.input(2)) if n.input(2) and sizes is None else None
    if n.attr("axes") is not None or int(n.attr("antialias", 0)):
        raise b.error("Resize with axes or antialias is not supported")
    if sizes is not None:
        out = [int(v) for v in np.asarray(sizes).reshape(-1)]
    elif scales is not None and np.asarray(scales).size == 4:
        out = [int(np.floor(d * float(s))) for d, s in zip(shape, np.asarray(scales).ravel())]
    else:
        raise b.error("Resize needs constant scales or sizes for all 4 dimensions")
    if len(out) != 4 or out[:2] != list(shape[:2]) or min(out) < 1:
        raise b.error(f"Resize from {list(shape)} to {out}: only H and W may change")
    return out[2], out[3]


@converter("Resize")
def resize(b: Builder, n: OnnxNode):
    x = n.input(0)
    shape = b.shape(x)
    h, w = out_hw(b, n, shape)
    mode = n.attr("mode", "nearest")
    ctm = n.attr("coordinate_transformation_mode", "half_pixel")
    if mode == "nearest":
        rounding = n.attr("nearest_mode", "round_prefer_floor")
        flags = NEAREST.get((ctm, rounding))
        if flags is None and (ctm, rounding) == ("half_pixel", "round_prefer_floor") and \
                h % shape[2] == 0 and w % shape[3] == 0:
            flags = (False, False)
        kind = "RESIZE_NEAREST_NEIGHBOR"
    elif mode == "linear":
        flags = LINEAR.get(ctm)
        if ctm == "pytorch_half_pixel" and min(h, w) == 1:
            flags = None
        kind = "RESIZE_BILINEAR"
    else:
        raise b.error(f"Resize mode {mode!r} is not supported (nearest, linear)")
    if flags is None:
        raise b.error(f"Resize {mode} with coordinate_transformation_mode {ctm!r}"
                      + (f" and nearest_mode {n.attr('nearest_mode', 'round_prefer_floor')!r}"
                         if mode == "nearest" else "")
                      + " is not supported; see toolchain/frontends/onnx_resize_ops.py")
    size = b.ints([h, w], "size")
    b.emit(kind, [b.tensor_in(x, NHWC), size],
           dict(align_corners=flags[0], half_pixel_centers=flags[1]), out=n.outputs[0],
           perm=NHWC)


@converter("DepthToSpace", "SpaceToDepth")
def depth_space(b: Builder, n: OnnxNode):
    x = n.input(0)
    if len(b.shape(x)) != 4:
        raise b.error(f"{n.op_type} of a {len(b.shape(x))}-D input is not supported")
    if n.op_type == "DepthToSpace" and n.attr("mode", "DCR") != "DCR":
        raise b.error(f"DepthToSpace mode {n.attr('mode')!r} is not supported (DCR, "
                      "TFLite's order)")
    kind = "DEPTH_TO_SPACE" if n.op_type == "DepthToSpace" else "SPACE_TO_DEPTH"
    b.emit(kind, [b.tensor_in(x, NHWC)], dict(block_size=int(n.attr("blocksize"))),
           out=n.outputs[0], perm=NHWC)
