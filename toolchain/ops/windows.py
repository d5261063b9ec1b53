"""Sliding-window gathering shared by convolution and pooling references."""
from __future__ import annotations

import numpy as np

from . import common


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
    rows = np.arange(oh)[:, None] * sh - ph + np.arange(kh)[None, :] * dh   # [OH, KH]
    cols = np.arange(ow)[:, None] * sw - pw + np.arange(kw)[None, :] * dw   # [OW, KW]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=fill)
    r = np.clip(rows, -1, h) + 1
    q = np.clip(cols, -1, w) + 1
    return padded[:, r[:, None, :, None], q[None, :, None, :], :]
