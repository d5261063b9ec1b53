"""Value ranges of the IR's integer dtypes, and the checks that keep numbers inside them.

A zero point outside its tensor's dtype (e.g. -2**40 on an int8 tensor) would reach the
generated C as a constant that does not fit its type, and an input value outside the model
input's dtype would wrap silently when cast: both are refused with the range named.
"""
from __future__ import annotations

import numpy as np

INT_RANGES = {"int4": (-8, 7), "int8": (-128, 127), "uint8": (0, 255),
              "int16": (-32768, 32767), "int32": (-2**31, 2**31 - 1),
              "int64": (-2**63, 2**63 - 1)}


def int_range(dtype: str) -> tuple[int, int] | None:
    """(min, max) of an integer IR dtype; None for float32 and bool."""
    return INT_RANGES.get(dtype)


def quant_problem(quant, dtype: str) -> str | None:
    """What is wrong with a tensor's quantization parameters, or None: every scale must be
    finite and > 0, every zero point within the tensor's integer dtype."""
    if quant is None:
        return None
    scale = np.asarray(quant.scale, np.float64)
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        bad = scale[~(np.isfinite(scale) & (scale > 0))][0]
        return f"scale {bad:g} is not finite and > 0"
    span = int_range(dtype)
    zero = np.asarray(quant.zero_point, np.int64)
    if span is not None and zero.size and (zero.min() < span[0] or zero.max() > span[1]):
        bad = zero.min() if zero.min() < span[0] else zero.max()
        return f"zero point {int(bad)} is outside {dtype} [{span[0]}, {span[1]}]"
    return None


def out_of_range(values: np.ndarray, dtype: str) -> tuple[int, int] | None:
    """(min, max) of integer `values` when some lie outside `dtype`'s range, else None."""
    span = int_range(dtype)
    values = np.asarray(values)
    if span is None or values.size == 0 or values.dtype.kind not in "iu":
        return None
    low, high = int(values.min()), int(values.max())
    return (low, high) if low < span[0] or high > span[1] else None
