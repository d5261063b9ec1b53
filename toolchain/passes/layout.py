"""Layout rules: chains of reshapes or transposes collapse, a transpose that keeps memory
order becomes a reshape, element-wise ops move above reshapes (to meet the op they fold into),
and the NCHW flatten before a FULLY_CONNECTED becomes a permutation of its weight columns."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op, Tensor
from .edit import producer_of, sole_consumer, substitute, unique_name, with_ops

RESHAPES = ("RESHAPE", "SQUEEZE")
UNARY = ("RELU", "RELU6", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU")


def const_data(graph: Graph, name: str):
    t = graph.tensors.get(name) if name else None
    return t.data if t is not None and t.is_const else None


def perm_of(graph: Graph, op: Op) -> list[int]:
    return [int(p) for p in const_data(graph, op.inputs[1])]


def reshape_op(graph: Graph, op: Op, source: str, extra=()) -> tuple[Op, list]:
    """RESHAPE of `source` to op's output shape (shape operand + new_shape attribute)."""
    shape = graph.tensors[op.outputs[0]].shape
    name = unique_name(graph, f"{op.outputs[0]}_shape", extra)
    data = np.asarray(shape, np.int32)
    new = Op("RESHAPE", [source, name], op.outputs, dict(new_shape=shape), op.name)
    return new, [Tensor(name, data.shape, "int32", data)]


def transpose_as_reshape(graph, i, users):
    """A TRANSPOSE that only moves size-1 dims keeps the memory order: it is a RESHAPE."""
    op = graph.ops[i]
    if op.kind != "TRANSPOSE" or const_data(graph, op.inputs[1]) is None:
        return None
    shape, perm = graph.tensors[op.inputs[0]].shape, perm_of(graph, op)
    moved = [p for p in perm if shape[p] != 1]
    if moved != sorted(moved) or perm == sorted(perm):
        return None
    return substitute(graph, i, *reshape_op(graph, op, op.inputs[0]))


def collapse_reshapes(graph, i, users):
    """A RESHAPE/SQUEEZE of a RESHAPE/SQUEEZE output reshapes the first input directly."""
    op = graph.ops[i]
    src = producer_of(users, op.inputs[0]) if op.kind in RESHAPES else None
    if src is None or graph.ops[src].kind not in RESHAPES:
        return None
    return substitute(graph, i, *reshape_op(graph, op, graph.ops[src].inputs[0]))


def collapse_transposes(graph, i, users):
    """A TRANSPOSE of a TRANSPOSE output is one TRANSPOSE of the first input."""
    op = graph.ops[i]
    src = producer_of(users, op.inputs[0]) if op.kind == "TRANSPOSE" else None
    if src is None or graph.ops[src].kind != "TRANSPOSE":
        return None
    first, second = perm_of(graph, graph.ops[src]), perm_of(graph, op)
    perm = np.asarray([first[j] for j in second], np.int32)
    name = unique_name(graph, f"{op.outputs[0]}_perm")
    new = op.replace(inputs=[graph.ops[src].inputs[0], name])
    return substitute(graph, i, new, [Tensor(name, perm.shape, "int32", perm)])


def _per_channel_operand(graph: Graph, op: Op, before: Tensor) -> bool:
    """op's second input is a constant varying along the last axis only, which broadcasts
    the same way against the pre-reshape tensor `before`."""
    c = const_data(graph, op.inputs[1])
    y, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    return (c is not None and c.ndim <= len(before.shape) and out.shape == y.shape
            and all(d == 1 for d in c.shape[:-1])
            and (c.size == 1 or before.shape[-1] == y.shape[-1]))


def hoist_over_reshape(graph, i, users):
    """A float element-wise op (or per-channel MUL/ADD/SUB by a constant) right after a
    reshape runs before it instead, next to the op that may absorb it."""
    op = graph.ops[i]
    if op.kind not in UNARY + ("ADD", "SUB", "MUL") or not op.inputs:
        return None
    r = producer_of(users, op.inputs[0])
    if r is None or graph.ops[r].kind not in RESHAPES or sole_consumer(
            graph, op.inputs[0], users) != i:
        return None
    reshape = graph.ops[r]
    before = graph.tensors[reshape.inputs[0]]
    if before.dtype != "float32" or (op.kind not in UNARY
                                     and not _per_channel_operand(graph, op, before)):
        return None
    mid = Tensor(unique_name(graph, f"{op.outputs[0]}_pre"), before.shape, "float32")
    ops = list(graph.ops)
    ops[r] = op.replace(inputs=[reshape.inputs[0], *op.inputs[1:]], outputs=[mid.name])
    ops[i] = reshape.replace(inputs=[mid.name, *reshape.inputs[1:]], outputs=op.outputs)
    return with_ops(graph, ops, [mid])


def transpose_into_fc(graph, i, users):
    """FULLY_CONNECTED(RESHAPE(TRANSPOSE(x))) (the NCHW flatten of an NHWC tensor): permute
    the constant weight columns instead and flatten x directly."""
    fc = graph.ops[i]
    if fc.kind != "FULLY_CONNECTED" or fc.attr("keep_num_dims", False):
        return None
    r = producer_of(users, fc.inputs[0])
    if r is None or graph.ops[r].kind != "RESHAPE" or sole_consumer(
            graph, fc.inputs[0], users) != i:
        return None
    t = producer_of(users, graph.ops[r].inputs[0])
    if t is None or graph.ops[t].kind != "TRANSPOSE" or sole_consumer(
            graph, graph.ops[r].inputs[0], users) != r:
        return None
    x, w = graph.tensors[graph.ops[t].inputs[0]], graph.tensors[fc.inputs[1]]
    perm, k = perm_of(graph, graph.ops[t]), int(np.prod(x.shape[1:]))
    if (perm[0] != 0 or not w.is_const or w.dtype == "int4" or w.shape[1] != k
            or graph.tensors[fc.inputs[0]].shape != (x.shape[0], k)):
        return None
    source = np.arange(k).reshape(x.shape[1:]).transpose([p - 1 for p in perm[1:]])
    data = np.empty_like(w.data)
    data[:, source.reshape(-1)] = w.data
    weights = w.replace(name=unique_name(graph, f"{w.name}_nhwc"), data=data)
    ops = list(graph.ops)
    ops[r] = graph.ops[r].replace(inputs=[x.name, *graph.ops[r].inputs[1:]])
    ops[i] = fc.replace(inputs=[fc.inputs[0], weights.name, *fc.inputs[2:]])
    return with_ops(graph, ops, [weights])


# rules tried in order at each op (after the identity rules of simplify.py)
RULES = [
    transpose_as_reshape,   # transposes of size-1 dims (e.g. NHWC -> NCHW of [1,1,1,C])
    collapse_reshapes,      # reshape(reshape(x)) -> reshape(x)
    collapse_transposes,    # transpose(transpose(x)) -> transpose(x), maybe the identity
    hoist_over_reshape,     # reshape -> relu / per-channel scale  =>  relu / scale -> reshape
    transpose_into_fc,      # FC(flatten(transpose(x))) -> FC'(flatten(x)), columns permuted
]
