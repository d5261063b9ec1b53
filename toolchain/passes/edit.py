"""Small graph edits the passes share: rule application, bypassing an op, merging an op into
its producer, dropping dead ops and unreferenced tensors. Each returns a new Graph."""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

from ..ir import Graph, Op, Tensor

MAX_REWRITES = 100_000


class Uses(dict):
    """tensor name -> indices of the ops reading it; `.writer` maps name -> producing op."""

    def __init__(self, graph: Graph):
        super().__init__(graph.consumers())
        self.writer = graph.producer()


# rule(graph, op index, uses) -> rewritten graph, or None when it does not apply
Rule = Callable[[Graph, int, Uses], "Graph | None"]


def apply_rules(graph: Graph, rules: Sequence[Rule]) -> Graph:
    """Apply the first matching rule at the first matching op, repeatedly, to a fixed point."""
    for _ in range(MAX_REWRITES):
        users = Uses(graph)
        for index in range(len(graph.ops)):
            new = next((g for g in (rule(graph, index, users) for rule in rules)
                        if g is not None), None)
            if new is not None:
                graph = new
                break
        else:
            return prune(graph)
    raise RuntimeError("rewrite rules did not reach a fixed point")


def sole_consumer(graph: Graph, name: str, users: dict) -> int | None:
    """Index of the one op reading `name` when nothing else (graph outputs included) does."""
    readers = users.get(name, [])
    if len(readers) != 1 or name in graph.outputs or name in graph.inputs:
        return None
    return readers[0]


def producer_of(users: Uses, name: str) -> int | None:
    return users.writer.get(name)


def unique_name(graph: Graph, base: str, taken: Iterable[str] = ()) -> str:
    taken = set(taken)
    name, i = base, 1
    while name in graph.tensors or name in taken:
        name, i = f"{base}_{i}", i + 1
    return name


def with_ops(graph: Graph, ops: Sequence[Op], new_tensors: Iterable[Tensor] = ()) -> Graph:
    tensors = dict(graph.tensors)
    tensors.update({t.name: t for t in new_tensors})
    return graph.replace(ops=tuple(ops), tensors=tensors)


def substitute(graph: Graph, index: int, op: Op, new_tensors: Iterable[Tensor] = ()) -> Graph:
    """Replace op `index` by `op` (adding tensors it needs)."""
    ops = list(graph.ops)
    ops[index] = op
    return with_ops(graph, ops, new_tensors)


def merge_into_producer(graph: Graph, producer: int, consumer: int, op: Op,
                        new_tensors: Iterable[Tensor] = ()) -> Graph:
    """`op` replaces the producer and writes the consumer's output; the consumer goes away.

    The producer's old output must have had the consumer as its sole reader.
    """
    ops = list(graph.ops)
    ops[producer] = op.replace(outputs=graph.ops[consumer].outputs)
    del ops[consumer]
    return with_ops(graph, ops, new_tensors)


def bypass(graph: Graph, index: int, users: dict) -> Graph | None:
    """Remove op `index`, whose output equals its first input; None when it cannot go.

    Readers of the output read the input instead; when the output is a graph output, the
    input's producer writes it directly (if the input has no other reader).
    """
    op = graph.ops[index]
    x, y = op.inputs[0], op.outputs[0]
    tx, ty = graph.tensors[x], graph.tensors[y]
    if tx.shape != ty.shape or tx.dtype != ty.dtype or not (
            tx.quant is None and ty.quant is None or tx.quant and tx.quant.same_as(ty.quant)):
        return None
    ops = list(graph.ops)
    if y not in graph.outputs:
        del ops[index]
        ops = [o.replace(inputs=[x if n == y else n for n in o.inputs]) for o in ops]
        return with_ops(graph, ops)
    source = producer_of(users, x)
    if source is None or sole_consumer(graph, x, users) != index:
        return None
    ops[source] = ops[source].replace(outputs=[y if n == x else n for n in ops[source].outputs])
    del ops[index]
    return with_ops(graph, ops)


def prune(graph: Graph) -> Graph:
    """Drop ops whose outputs nobody reads, then tensors no op or graph I/O mentions."""
    ops = list(graph.ops)
    while True:
        read = set(graph.outputs) | {n for op in ops for n in op.inputs if n}
        live = [op for op in ops if any(n in read for n in op.outputs)]
        if len(live) == len(ops):
            break
        ops = live
    used = set(graph.inputs) | set(graph.outputs)
    used |= {n for op in ops for n in (*op.inputs, *op.outputs) if n}
    used |= {n for op in ops for n in op.attr("intermediates", ())}   # an int8 LSTM's scales
    tensors = {k: t for k, t in graph.tensors.items() if k in used}
    if len(ops) == len(graph.ops) and len(tensors) == len(graph.tensors):
        return graph
    return graph.replace(ops=tuple(ops), tensors=tensors)
