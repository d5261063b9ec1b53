"""The values of one calibration (or validation) array, checked against the model input.

Calibration sets every activation's range: one NaN or infinity makes the ranges meaningless
(placeholder scales, a broken int8 model, no warning), and a silent cast (bool to float, int64
beyond float32's exact integers, floats into an int8 input) changes the data. So non-finite
values are refused with their count, and a cast is done only when it is exact, said once on
stderr.
"""
from __future__ import annotations

import functools
import sys

import numpy as np

from ..errors import UsageError
from ..ir.ranges import int_range

FLOAT32_EXACT = 2 ** 24           # every integer up to this magnitude is exact in float32


def checked_values(arr: np.ndarray, t, where: str) -> np.ndarray:
    """`arr` as the dtype of input tensor `t`; a UsageError naming `where` (the file) and the
    input when a value is not finite or the cast would change a value."""
    kind = arr.dtype.kind
    if kind not in "iuf":
        raise UsageError(f"{where}: input {t.name!r} expects {t.dtype} values, got dtype "
                         f"{arr.dtype}")
    if kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        if bad:
            raise UsageError(f"{where}: input {t.name!r}: {bad} of {arr.size} values are NaN "
                             "or infinite; calibration data must be finite")
    if t.dtype == "float32":
        return _to_float32(arr, t, where)
    return _to_integer(arr, t, where)


def _to_float32(arr: np.ndarray, t, where: str) -> np.ndarray:
    if arr.dtype.kind == "f":
        out = arr.astype(np.float32, copy=False)
        if not np.all(np.isfinite(out)):
            raise UsageError(f"{where}: input {t.name!r}: values beyond float32's range "
                             f"(max |x| {float(np.abs(arr).max()):g})")
        return out
    if arr.size and int(np.abs(arr.astype(np.float64)).max()) > FLOAT32_EXACT:
        raise UsageError(f"{where}: input {t.name!r} expects float32, got {arr.dtype} values "
                         f"beyond +-2^24 that float32 cannot hold exactly; convert them first")
    if arr.dtype != np.float32:
        _note_cast(t.name, str(arr.dtype), "float32")
    return arr.astype(np.float32, copy=False)


def _to_integer(arr: np.ndarray, t, where: str) -> np.ndarray:
    low, high = int_range(t.dtype) or (None, None)
    if low is None:
        raise UsageError(f"{where}: input {t.name!r} expects {t.dtype} values, got dtype "
                         f"{arr.dtype}")
    if arr.dtype.kind == "f" and arr.size and not np.all(arr == np.round(arr)):
        raise UsageError(f"{where}: input {t.name!r} expects {t.dtype}, got {arr.dtype} values "
                         "that are not whole numbers")
    if arr.size and (arr.min() < low or arr.max() > high):
        raise UsageError(f"{where}: input {t.name!r} expects {t.dtype} values in [{low}, "
                         f"{high}], got values in [{arr.min():g}, {arr.max():g}]")
    if arr.dtype != np.dtype(t.dtype):
        _note_cast(t.name, str(arr.dtype), t.dtype)
    return arr.astype(t.dtype, copy=False)


@functools.lru_cache(maxsize=None)
def _note_cast(name: str, src: str, dst: str) -> None:
    """Say once per input and dtype pair that the data were cast (exactly)."""
    print(f"fitml: note: input {name!r}: {src} data cast to {dst} (every value exact)",
          file=sys.stderr)
