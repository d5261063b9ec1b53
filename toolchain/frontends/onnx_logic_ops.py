"""ONNX comparisons (Equal, Greater, GreaterOrEqual, Less, LessOrEqual), logic (And, Or, Not),
float unary functions (Floor, Ceil, Round, Log, Sin, Cos) and ArgMax / ArgMin onto the TFLite
ops of the same meaning. ONNX Round is half to even like TFLite's ROUND."""
from __future__ import annotations

import numpy as np

from .onnx_build import Builder
from .onnx_math_ops import binary, unary
from .onnx_node import OnnxNode, converter, inverse

BINARY = {"Equal": "EQUAL", "Greater": "GREATER", "GreaterOrEqual": "GREATER_EQUAL",
          "Less": "LESS", "LessOrEqual": "LESS_EQUAL", "And": "LOGICAL_AND", "Or": "LOGICAL_OR"}
UNARY = {"Not": "LOGICAL_NOT", "Floor": "FLOOR", "Ceil": "CEIL", "Round": "ROUND", "Log": "LOG",
         "Sin": "SIN", "Cos": "COS"}


@converter(*BINARY)
def comparison(b: Builder, n: OnnxNode):
    binary(b, n, BINARY[n.op_type], n.input(0), n.input(1), out=n.outputs[0])


@converter(*UNARY)
def elementwise(b: Builder, n: OnnxNode):
    unary(b, n, UNARY[n.op_type])


@converter("ArgMax", "ArgMin")
def arg_extreme(b: Builder, n: OnnxNode):
    """ArgMax / ArgMin onto ARG_MAX / ARG_MIN (first index on ties, as ONNX's default). The
    indices come out int32, as TFLite Micro writes them (ONNX says int64: same values)."""
    x = n.input(0)
    rank = len(b.shape(x))
    axis = int(n.attr("axis", 0))
    if not -rank <= axis < rank:
        raise b.error(f"axis {axis} out of range for rank {rank}")
    if n.attr("select_last_index", 0):
        raise b.error("select_last_index=1 is not supported (TFLite's ARG_MAX / ARG_MIN "
                      "return the first index on ties)")
    axis %= rank
    kind = "ARG_MAX" if n.op_type == "ArgMax" else "ARG_MIN"
    attrs = dict(output_type="int32")
    if n.attr("keepdims", 1):       # over the ONNX order, then the axis back as size 1
        flat = b.emit(kind, [b.plain(x), b.const_tensor(np.array([axis], np.int32), "axis")],
                      attrs, base=f"{n.outputs[0]}_flat")
        b.reshape(flat, [1 if i == axis else d for i, d in enumerate(b.shape(x))],
                  out=n.outputs[0])
        return
    v = b.value(x)                  # over the stored order: no transpose
    kept = [a for a in v.perm if a != axis]          # ONNX axes left, in stored order
    perm = tuple(int(i) for i in np.argsort(np.argsort(kept)))
    axis_t = b.const_tensor(np.array([inverse(v.perm)[axis]], np.int32), "axis")
    b.emit(kind, [v.tensor, axis_t], attrs, out=n.outputs[0], perm=perm)
