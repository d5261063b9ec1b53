"""FLOOR_DIV: floor(x / y) element-wise, NumPy broadcasting; float32 (TFLM floor_div.cc) and
int32 (LiteRT; TFLM runs float32 only).

TFLite's FloorDiv<T> is std::floor(double(x) / double(y)) cast back to T. For float32 that is
the quotient rounded once to double, floored, rounded to float32: numpy does the same in
float64, C in double, so float32 is bit-exact. For int32 the double quotient is exact enough
that it equals integer floor division, which numpy and C compute on integers.
TFLM refuses a zero divisor at run time ("Division by 0"). A constant divisor holding a zero
is refused here when the graph is checked; a zero arriving at run time gives IEEE's +-inf or
NaN (float32) or 0 (int32). INT32_MIN / -1 wraps to INT32_MIN (its quotient 2^31 does not fit).
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from . import broadcast
from .registry import Node, OpDef, register

DTYPES = ("float32", "int32")


def floor_div(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """TFLite's FloorDiv per element, in x's dtype."""
    x, y = np.broadcast_arrays(np.asarray(x), np.asarray(y))
    with np.errstate(all="ignore"):
        if x.dtype == np.float32:
            return np.floor(x.astype(np.float64) / y.astype(np.float64)).astype(np.float32)
        x64, y64 = x.astype(np.int64), y.astype(np.int64)
        q = np.where(y64 == 0, 0, x64 // np.where(y64 == 0, 1, y64))
        return ((q + 2 ** 31) % 2 ** 32 - 2 ** 31).astype(np.int32)    # 2^31 wraps


@register
class FloorDiv(OpDef):
    kind = "FLOOR_DIV"
    tflite_options = "FloorDivOptions"

    @staticmethod
    def infer(op, ins):
        return broadcast.binary_infer("FLOOR_DIV", ins, DTYPES)

    @staticmethod
    def check(op, ins, outs):
        y = ins[1]
        if y is not None and y.is_const and np.any(np.asarray(y.data) == 0):
            index = int(np.flatnonzero(np.asarray(y.data).reshape(-1) == 0)[0])
            raise GraphError(f"FLOOR_DIV: constant divisor {y.name!r} is 0 at flat index "
                             f"{index} (TFLite Micro refuses division by zero)")

    @staticmethod
    def reference(node: Node, args):
        return [floor_div(args[0], args[1])]

    @staticmethod
    def lower_c(node: Node):
        """fitml_floor_div_<f32|s32> over the broadcast walk."""
        kernel = {"float32": "fitml_floor_div_f32", "int32": "fitml_floor_div_s32"}.get(
            node.ins[0].dtype)
        if kernel is None:
            raise cparams.unsupported(node)
        return cparams.broadcast_call(node, kernel)

    @staticmethod
    def macs(node):
        return node.outs[0].size
