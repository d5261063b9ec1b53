"""ONNX element-wise math nodes: Max, Min (variadic, as a chain of MAXIMUM / MINIMUM), Abs,
Neg, Exp, Sqrt."""
from __future__ import annotations

from .onnx_build import Builder, OnnxNode, converter
from .onnx_ops import binary, unary

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
