"""TRANSPOSE_CONV's geometry and TFLM's scatter sum, shared by the op (transpose_conv.py) and
its 16x8 variant (transpose_conv_int16.py): the padding TFLM computes (the conv from the
output size back to the input's), the numpy scatter and the C kernels' fitml_conv_geom."""
from __future__ import annotations

import numpy as np

from ..lowering import cparams
from . import common
from .registry import Node


def pads(op, out_hw, kernel) -> tuple[int, int]:
    """(pad_h, pad_w): TFLM's padding of the conv from the output size back to the input."""
    stride, padding = op.attr("stride", (1, 1)), op.attr("padding", "SAME")
    return tuple(common.pad_before(o, k, s, 1, common.out_size(o, k, s, 1, padding))
                 for o, k, s in zip(out_hw, kernel, stride))


def scatter(node: Node, x: np.ndarray, w: np.ndarray, dtype) -> np.ndarray:
    """TFLM's scatter sum in `dtype`. Each output element's terms are added in TFLM's order
    (input row, column, channel ascending), which for float32 is the rounding order too."""
    n, h, wd, _ = x.shape
    cout, kh, kw, cin = w.shape
    (sh, sw), (ph, pw) = node.attr("stride", (1, 1)), pads(node, node.outs[0].shape[1:3], (kh, kw))
    oh, ow = node.outs[0].shape[1:3]
    full = np.zeros((n, max((h - 1) * sh + kh, ph + oh), max((wd - 1) * sw + kw, pw + ow), cout),
                    dtype)
    x, w = x.astype(dtype), w.astype(dtype)
    for ky in reversed(range(kh)):            # a later row of input meets an earlier tap row
        for kx in reversed(range(kw)):
            window = full[:, ky:ky + (h - 1) * sh + 1:sh, kx:kx + (wd - 1) * sw + 1:sw, :]
            if dtype == np.float32:
                for c in range(cin):
                    window += x[..., c, None] * w[:, ky, kx, c]
            else:
                window += np.einsum("nhwc,oc->nhwo", x, w[:, ky, kx, :])
    return full[:, ph:ph + oh, pw:pw + ow, :]


def geom(node: Node) -> dict:
    """fitml_conv_geom of the scatter: the input, the filter [C_out, KH, KW, C_in], the output."""
    x, w, out = node.ins[2], node.ins[1], node.outs[0]
    (sh, sw), (ph, pw) = node.attr("stride", (1, 1)), pads(node, out.shape[1:3], w.shape[1:3])
    return dict(input=cparams.dims(x.shape), filter=cparams.dims(w.shape),
                output=cparams.dims(out.shape), stride_h=sh, stride_w=sw, dilation_h=1,
                dilation_w=1, pad_h=ph, pad_w=pw)
