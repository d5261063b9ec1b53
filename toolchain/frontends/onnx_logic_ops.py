"""ONNX comparisons (Equal, Greater, GreaterOrEqual, Less, LessOrEqual), logic (And, Or, Not)
and float unary functions (Floor, Ceil, Round, Log, Sin, Cos) onto the TFLite ops of the same
meaning. ONNX Round is half to even like TFLite's ROUND."""
from __future__ import annotations

from .onnx_build import Builder
from .onnx_math_ops import binary, unary
from .onnx_node import OnnxNode, converter

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
