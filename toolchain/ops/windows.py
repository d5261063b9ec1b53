"""Sliding-window gathering shared by convolution and pooling references."""
from __future__ import annotations

import numpy as np

from ..arith import kernel_math as km
from ..ir import GraphError, Node
from . import common


def _explicit(kind: str, pads) -> tuple[tuple[int, int], tuple[int, int]]:
    """An `explicit_padding` attribute checked: ((top, bottom), (left, right)), each >= 0."""
    try:
        (top, bottom), (left, right) = pads
        pads = ((int(top), int(bottom)), (int(left), int(right)))
    except (TypeError, ValueError):
        raise GraphError(f"{kind}: explicit_padding {pads!r} is not ((top, bottom), "
                         "(left, right))") from None
    if min(pads[0] + pads[1]) < 0:
        raise GraphError(f"{kind}: negative explicit_padding {pads}")
    return pads


def output_hw(kind: str, in_hw, kernel, stride, dilation, padding: str,
              explicit=None) -> tuple[int, int]:
    """(OH, OW) of a windowed op; GraphError when the window does not fit (empty output).

    `explicit`: the op's `explicit_padding` for padding EXPLICIT (ops that take it pass it;
    for the others EXPLICIT is refused like any other unknown padding)."""
    if padding not in ("SAME", "VALID") and (padding != "EXPLICIT" or explicit is None):
        raise GraphError(f"{kind}: padding {padding!r} is not SAME or VALID")
    if not all(len(v) == 2 and all(isinstance(i, int) for i in v)
               for v in (kernel, stride, dilation)):
        raise GraphError(f"{kind}: kernel {tuple(kernel)}, stride {tuple(stride)} and dilation "
                         f"{tuple(dilation)} must each be two integers (height, width)")
    if min(*kernel, *stride, *dilation) < 1:
        raise GraphError(f"{kind}: kernel {kernel}, stride {stride} and dilation {dilation} "
                         "must be >= 1")
    if padding == "EXPLICIT":
        hw = tuple(km.explicit_out_size(i, k, s, d, *p) for i, k, s, d, p in zip(
            in_hw, kernel, stride, dilation, _explicit(kind, explicit)))
    else:
        hw = tuple(common.out_size(i, k, s, d, padding)
                   for i, k, s, d in zip(in_hw, kernel, stride, dilation))
    if min(hw) < 1:
        raise GraphError(f"{kind}: {padding} window {tuple(kernel)} (dilation {tuple(dilation)}) "
                         f"does not fit the {in_hw[0]}x{in_hw[1]} input")
    return hw


def node_pads(node: Node, kernel, dilation=(1, 1)) -> tuple[int, int]:
    """(top, left) padding of windowed op `node`: explicit, or TFLite's SAME/VALID rule."""
    (top, _), (left, _) = km.window_pads(node, node.ins[0].shape[1:3], kernel,
                                         node.attr("stride", (1, 1)), dilation,
                                         node.outs[0].shape[1:3])
    return top, left


def conv_patches(x: np.ndarray, kernel, stride, dilation, out_hw, fill,
                 pads=None) -> np.ndarray:
    """Gather [N, OH, OW, KH, KW, C] windows of an NHWC array whose tap (0, 0) of output
    (0, 0) sits at -pads (top, left; default TFLite's SAME/VALID origin, see node_pads).

    Taps outside the image take `fill` (zp_in for int8, 0 for float), which makes them
    contribute nothing to a zero-point-corrected sum.
    """
    n, h, w, c = x.shape
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    oh, ow = out_hw
    ph, pw = pads if pads is not None else (common.pad_before(h, kh, sh, dh, oh),
                                            common.pad_before(w, kw, sw, dw, ow))
    if (kh, kw, sh, sw, oh, ow, ph, pw) == (1, 1, 1, 1, h, w, 0, 0):
        return x[:, :, :, None, None, :]        # 1x1, stride 1: every window is one pixel
    rows = np.arange(oh)[:, None] * sh - ph + np.arange(kh)[None, :] * dh   # [OH, KH]
    cols = np.arange(ow)[:, None] * sw - pw + np.arange(kw)[None, :] * dw   # [OW, KW]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=fill)
    r = np.clip(rows, -1, h) + 1
    q = np.clip(cols, -1, w) + 1
    return padded[:, r[:, None, :, None], q[None, :, None, :], :]
