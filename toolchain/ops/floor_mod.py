"""FLOOR_MOD: x - floor(x / y) * y element-wise, NumPy broadcasting; float32 (TFLM
floor_mod.cc) and int32 (LiteRT; TFLM runs float32 only).

TFLM's FloorMod: the truncated remainder (std::fmod, or % for integers), plus y when it is
nonzero and its sign differs from y's. fmod is exact, so float32 is bit-exact everywhere.
TFLM refuses a zero divisor at run time; here float32 gives fmod's NaN and int32 gives 0 (as
does y == -1, where C's INT32_MIN % -1 is undefined).
"""
from __future__ import annotations

import numpy as np

from ..lowering import cparams
from . import broadcast
from .registry import Node, OpDef, register

DTYPES = ("float32", "int32")


def floor_mod(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """TFLM's FloorMod per element, in x's dtype."""
    x, y = np.broadcast_arrays(np.asarray(x), np.asarray(y))
    with np.errstate(all="ignore"):
        if x.dtype == np.float32:
            trunc = np.fmod(x, y)
        else:
            x64, y64 = x.astype(np.int64), y.astype(np.int64)
            trunc = np.where((y64 == 0) | (y64 == -1), 0,
                             np.fmod(x64, np.where(y64 == 0, 1, y64)))
        fix = (trunc != 0) & ((y < 0) != (trunc < 0))
        return np.where(fix, trunc + y, trunc).astype(x.dtype)


@register
class FloorMod(OpDef):
    kind = "FLOOR_MOD"
    tflite_options = "FloorModOptions"

    @staticmethod
    def infer(op, ins):
        return broadcast.binary_infer("FLOOR_MOD", ins, DTYPES)

    @staticmethod
    def reference(node: Node, args):
        return [floor_mod(args[0], args[1])]

    @staticmethod
    def lower_c(node: Node):
        """fitml_floor_mod_<f32|s32> over the broadcast walk."""
        kernel = {"float32": "fitml_floor_mod_f32", "int32": "fitml_floor_mod_s32"}.get(
            node.ins[0].dtype)
        if kernel is None:
            raise cparams.unsupported(node)
        return cparams.broadcast_call(node, kernel)

    @staticmethod
    def macs(node):
        return node.outs[0].size
