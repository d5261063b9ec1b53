"""Sliding-window gathering shared by convolution and pooling references."""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from . import common


def output_hw(kind: str, in_hw, kernel, stride, dilation, padding: str) -> tuple[int, int]:
    """(OH, OW) of a windowed op; GraphError when the window does not fit (empty output)."""
    if padding not in ("SAME", "VALID"):
        raise GraphError(f"{kind}: padding {padding!r} is not SAME or VALID")
    if min(*kernel, *stride, *dilation) < 1:
        raise GraphError(f"{kind}: kernel {kernel}, stride {stride} and dilation {dilation} "
                         "must be >= 1")
    hw = tuple(common.out_size(i, k, s, d, padding)
               for i, k, s, d in zip(in_hw, kernel, stride, dilation))
    if min(hw) < 1:
        raise GraphError(f"{kind}: {padding} window {tuple(kernel)} (dilation {tuple(dilation)}) "
                         f"does not fit the {in_hw[0]}x{in_hw[1]} input")
    return hw


def conv_patches(x: np.ndarray, kernel, stride, dilation, out_hw, fill) -> np.ndarray:
    """Gather [N, OH, OW, KH, KW, C] windows of an NHWC array with TFLite SAME/VALID origin.

    Taps outside the image take `fill` (zp_in for int8, 0 for float), which makes them
    contribute nothing to a zero-point-corrected sum.
    """
    n, h, w, c = x.shape
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    oh, ow = out_hw
    ph = common.pad_before(h, kh, sh, dh, oh)
    pw = common.pad_before(w, kw, sw, dw, ow)
    if (kh, kw, sh, sw, oh, ow, ph, pw) == (1, 1, 1, 1, h, w, 0, 0):
        return x[:, :, :, None, None, :]        # 1x1, stride 1: every window is one pixel
    rows = np.arange(oh)[:, None] * sh - ph + np.arange(kh)[None, :] * dh   # [OH, KH]
    cols = np.arange(ow)[:, None] * sw - pw + np.arange(kw)[None, :] * dw   # [OW, KW]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=fill)
    r = np.clip(rows, -1, h) + 1
    q = np.clip(cols, -1, w) + 1
    return padded[:, r[:, None, :, None], q[None, :, None, :], :]
