"""FULLY_CONNECTED's requantization multipliers, shared by its int8, int4 and 16x8 kernels
(reference and C) and the 16x8 contract check."""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from . import common


def per_tensor_multiplier(s_in: float, s_w: float, s_out: float) -> tuple[int, int]:
    """TFLM per-tensor FC: (double)(float32(s_in * s_w)) / (double)s_out, then quantized."""
    product = np.float32(s_in) * np.float32(s_w)
    return fp.quantize_multiplier(float(np.float64(product) / np.float64(np.float32(s_out))))


def multipliers(s_in: float, wt, s_out: float):
    """(M, shift) per output channel (per-channel filter) or one pair (per-tensor filter)."""
    if wt.quant.scale.size > 1:
        return common.conv_multipliers(s_in, wt.quant.scale, s_out, wt.shape[0])
    return per_tensor_multiplier(s_in, wt.quant.s, s_out)
