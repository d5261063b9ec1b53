"""LOGICAL_AND, LOGICAL_OR (bool, NumPy broadcasting) and LOGICAL_NOT (bool) share one
definition (TFLM logical.cc, logical_not in elementwise.cc). Bool tensors are one byte per
element holding 0 or 1, the representation SELECT / SELECT_V2 conditions and CAST use."""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import broadcast, common
from .registry import Node, OpDef

CODES = ("LOGICAL_AND", "LOGICAL_OR")     # the op code of fitml_logical_params
APPLY = {"LOGICAL_AND": np.logical_and, "LOGICAL_OR": np.logical_or}


class LogicalBinaryBase(OpDef):
    """LOGICAL_AND / LOGICAL_OR; subclasses set `kind` and `tflite_options`."""

    @classmethod
    def infer(cls, op, ins):
        return broadcast.binary_infer(cls.kind, ins, ("bool",))

    @classmethod
    def reference(cls, node: Node, args):
        a, b = (np.asarray(x).astype(bool) for x in args[:2])
        return [APPLY[cls.kind](a, b)]

    @classmethod
    def lower_c(cls, node: Node):
        """fitml_logical_bool: the broadcast walk and the op code."""
        return cparams.in_place(CCall("fitml_logical_bool", "fitml_logical_params",
                                      dict(bc=cparams.broadcast(node),
                                           op=CODES.index(cls.kind)),
                                      cparams.binary_io(node)), node)

    @staticmethod
    def macs(node):
        return node.outs[0].size


class LogicalNotBase(OpDef):
    """LOGICAL_NOT: one bool input."""

    @classmethod
    def infer(cls, op, ins):
        x = common.need(ins[0] if ins else None, "input", cls.kind)
        if x.dtype != "bool":
            raise GraphError(f"{cls.kind}: dtype {x.dtype} not supported (supported: bool)")
        return [(x.shape, "bool")]

    @classmethod
    def reference(cls, node: Node, args):
        return [np.logical_not(np.asarray(args[0]).astype(bool))]

    @classmethod
    def lower_c(cls, node: Node):
        return cparams.in_place(CCall("fitml_logical_not_bool", "fitml_size_params",
                                      dict(size=node.ins[0].size), cparams.io(node)), node)

    @staticmethod
    def macs(node):
        return node.outs[0].size
