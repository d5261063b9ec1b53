"""ONNX element-wise math nodes: Max, Min (variadic, as a chain of MAXIMUM / MINIMUM), Abs,
Neg, Exp, Sqrt, Where (SELECT_V2)."""
from __future__ import annotations

from .onnx_build import Builder
from .onnx_math_ops import binary, layout, unary
from .onnx_node import OnnxNode, converter

EXTREMA = {"Max": "MAXIMUM", "Min": "MINIMUM"}


@converter(*EXTREMA)
def extremum(b: Builder, n: OnnxNode):
    """Max / Min of one or more inputs with broadcasting; one input is the identity."""
    names = [n.input(i) for i in range(len(n.inputs)) if n.input(i)]
    if not names:
        raise b.error(f"{n.op_type} needs at least one input")
    if len(names) == 1:
        b.values[n.outputs[0]] = b.value(names[0])
        return
    kind, acc = EXTREMA[n.op_type], names[0]
    for k, name in enumerate(names[1:], 2):
        out = n.outputs[0] if k == len(names) else b.fresh(f"{n.outputs[0]}_{k}")
        acc = binary(b, n, kind, acc, name, out=out)


UNARY = {"Abs": "ABS", "Neg": "NEG", "Exp": "EXP", "Sqrt": "SQRT"}


@converter(*UNARY)
def elementwise(b: Builder, n: OnnxNode):
    unary(b, n, UNARY[n.op_type])


@converter("Where")
def where(b: Builder, n: OnnxNode):
    """Where(condition, x, y) with three-way broadcasting, in the operands' stored layout."""
    names = [n.input(i) for i in range(3)]
    rank = max(len(b.shape(name)) for name in names)
    perm = layout(b, names, rank)
    b.emit("SELECT_V2", [b.operand(name, rank, perm) for name in names], {},
           out=n.outputs[0], perm=perm, base=f"{n.outputs[0]}_select")
