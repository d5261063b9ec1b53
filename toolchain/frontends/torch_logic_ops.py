"""torch.export comparisons (eq, ne, gt, ge, lt, le; tensor or scalar right operand), logic
(logical_and / or / not; & and | of bools, which LOGICAL_AND / OR refuse on numbers), float
unary functions (floor, ceil, round, log, sin, cos, square and pow 2) and remainder
(FLOOR_MOD) onto the TFLite ops of the same meaning. torch.round is half to even like
TFLite's ROUND."""
from __future__ import annotations

from .torch_common import converter, target_name
from .torch_ops import binary

COMPARE = {"eq": "EQUAL", "ne": "NOT_EQUAL", "gt": "GREATER", "ge": "GREATER_EQUAL",
           "lt": "LESS", "le": "LESS_EQUAL"}
BINARY = {f"aten.{name}.{form}": kind for name, kind in COMPARE.items()
          for form in ("Tensor", "Scalar")}
BINARY.update({"aten.remainder.Tensor": "FLOOR_MOD", "aten.remainder.Scalar": "FLOOR_MOD"})
BINARY.update({f"aten.{name}": kind for kind, names in (
    ("LOGICAL_AND", ("logical_and.default", "__and__.Tensor", "bitwise_and.Tensor")),
    ("LOGICAL_OR", ("logical_or.default", "__or__.Tensor", "bitwise_or.Tensor")))
    for name in names})
UNARY = {"aten.logical_not.default": "LOGICAL_NOT", "aten.floor.default": "FLOOR",
         "aten.ceil.default": "CEIL", "aten.round.default": "ROUND", "aten.log.default": "LOG",
         "aten.sin.default": "SIN", "aten.cos.default": "COS", "aten.square.default": "SQUARE"}


@converter(*BINARY)
def comparison(b, node, x, y):
    return binary(b, BINARY[target_name(node)], x, y)


@converter(*UNARY)
def elementwise(b, node, x):
    return b.emit(UNARY[target_name(node)], [x.tensor], perm=x.perm)


@converter("aten.pow.Tensor_Scalar")
def power(b, node, x, exponent):
    """x ** 2 (what torch.square decomposes to) as SQUARE; other exponents are refused."""
    if float(exponent) != 2.0:
        raise b.error(f"pow with exponent {exponent!r} is not supported (only 2, as SQUARE)")
    return b.emit("SQUARE", [x.tensor], perm=x.perm)
