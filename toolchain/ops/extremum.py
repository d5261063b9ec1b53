"""MAXIMUM and MINIMUM share one definition: an element-wise pick with NumPy broadcasting.

TFLM (maximum_minimum.cc) compares the stored values and copies the winner; it never
requantizes, so the quantized contract is that both inputs and the output share one scale
and zero point (what TFLite's converter writes). The float pick is `a > b ? a : b` (MINIMUM
`a < b ? a : b`): with a NaN operand it returns the second operand, unlike np.maximum.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from . import broadcast
from .registry import Node, OpDef

DTYPES = ("float32", "int8", "int16", "int32")
C_SUFFIX = {"float32": "f32", "int8": "s8", "int16": "s16", "int32": "s32"}


def pick(kind: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """TFLM's per-element choice, broadcast: x where it wins strictly, else y."""
    x, y = np.broadcast_arrays(x, y)
    wins = x > y if kind == "MAXIMUM" else x < y
    return np.where(wins, x, y)


class ExtremumBase(OpDef):
    """Shared definition; subclasses set `kind`."""

    tflite_options = "MaximumMinimumOptions"

    @classmethod
    def infer(cls, op, ins):
        return broadcast.binary_infer(cls.kind, ins, DTYPES)

    @classmethod
    def check(cls, op, ins, outs):
        if ins[0].dtype not in ("int8", "int16"):
            return
        broadcast.check_per_tensor(cls.kind, (ins[0], ins[1], outs[0]))
        params = [(float(t.quant.s), int(t.quant.zp)) for t in (ins[0], ins[1], outs[0])]
        if len(set(params)) != 1:
            raise GraphError(f"{cls.kind}: {ins[0].dtype} inputs and output must share one "
                             f"scale and zero point (TFLite compares stored values), got "
                             + ", ".join(f"({s:g}, {z})" for s, z in params))

    @classmethod
    def reference(cls, node: Node, args):
        out = pick(cls.kind, np.asarray(args[0]), np.asarray(args[1]))
        return [out.astype(node.outs[0].dtype)]

    @classmethod
    def lower_c(cls, node: Node):
        """fitml_<maximum|minimum>_<f32|s8|s16|s32> over the broadcast walk."""
        suffix = C_SUFFIX.get(node.ins[0].dtype)
        if suffix is None:
            raise cparams.unsupported(node)
        return cparams.broadcast_call(node, f"fitml_{cls.kind.lower()}_{suffix}")
