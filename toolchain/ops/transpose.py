"""TRANSPOSE: permute dimensions by the constant int32 `perm` operand (input 1).

out.shape[i] = in.shape[perm[i]]. Entries must be a permutation of 0..rank-1 (TFLM rejects
negative entries). Raw data movement: quant params are neither read nor checked.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cparams
from ..ir import GraphError
from . import common
from .opdef import OpDef
from .registry import Node, register


def perm_of(x, perm_t) -> tuple[int, ...]:
    """The checked permutation for input `x`."""
    perm = common.const_ints(perm_t, "perm", "TRANSPOSE")
    rank = len(x.shape)
    if perm.ndim != 1 or perm.size != rank:
        raise GraphError(f"TRANSPOSE: perm {perm.tolist()} must be 1-D of length {rank}")
    if sorted(perm.tolist()) != list(range(rank)):
        raise GraphError(f"TRANSPOSE: perm {perm.tolist()} is not a permutation of "
                         f"0..{rank - 1}")
    return tuple(int(p) for p in perm)


@register
class Transpose(OpDef):
    kind = "TRANSPOSE"
    tflite_options = "TransposeOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0], "input", "TRANSPOSE")
        perm = perm_of(x, ins[1] if len(ins) > 1 else None)
        return [(tuple(x.shape[p] for p in perm), x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        perm = perm_of(node.ins[0], node.ins[1])
        return [np.ascontiguousarray(np.transpose(np.asarray(args[0]), perm))]

    @staticmethod
    def attrs_to_tflite(attrs):
        return schema.TransposeOptionsT()

    @staticmethod
    def lower_c(node: Node):
        x = node.ins[0]
        perm = perm_of(x, node.ins[1])
        steps = cparams.strides(x.shape)
        return cparams.gather(node, [x.shape[p] for p in perm], [steps[p] for p in perm], 0)
