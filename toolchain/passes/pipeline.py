"""The pass pipelines, in order. Every pass is a pure Graph -> Graph function with a name, so
a user can dump the graph after any of them (`run_pipeline(..., dump_after="fold_batchnorm")`).
"""
from __future__ import annotations

import sys
from typing import Callable, Iterable, Sequence

from ..ir import Graph
from ..ops import registry
from ..ops.registry import Node
from .fold_batchnorm import fold_batchnorm
from .fold_constants import fold_constants
from .fold_pads import fold_pads
from .fuse_activations import fuse_activations
from .simplify import simplify

Pass = Callable[[Graph], Graph]

CLEANUP: list[tuple[str, Pass]] = [
    ("fold_constants", fold_constants),       # ops on constants only -> constants
    ("simplify", simplify),                   # identity ops out, reshape/transpose chains merged
    ("fold_batchnorm", fold_batchnorm),       # per-channel MUL/ADD after conv/FC -> weights
    ("fuse_activations", fuse_activations),   # RELU/RELU6/RELU_N1_TO_1 -> fused activation
    ("fold_pads", fold_pads),                 # PAD (fill neutral) -> conv/depthwise/max pool
]


def format_graph(graph: Graph) -> str:
    """A readable listing: one line per op with its output shape, and the graph I/O."""
    lines = [f"inputs: {', '.join(graph.inputs)}", f"outputs: {', '.join(graph.outputs)}"]
    for i, op in enumerate(graph.ops):
        outs = ", ".join(f"{n}: {graph.tensors[n].dtype}{list(graph.tensors[n].shape)}"
                         for n in op.outputs)
        attrs = ", ".join(f"{k}={v}" for k, v in op.attrs.items())
        ins = ", ".join(n or "-" for n in op.inputs)
        macs = registry.get(op.kind).macs(Node.of(graph, op))
        lines.append(f"{i:4d} {op.kind:<18} ({ins}) -> {outs}  {attrs}"
                     + (f"  [{macs:,} MACs]" if macs else ""))
    return "\n".join(lines)


def run_pipeline(graph: Graph, passes: Sequence[tuple[str, Pass]],
                 dump_after: str | Iterable[str] | None = None,
                 dump: Callable[[str, Graph], None] | None = None,
                 validate: bool = True) -> Graph:
    """Run `passes` in order, validating after each one.

    dump_after: a pass name, several, or "all"; after those passes `dump(name, graph)` is
    called (default: print `format_graph` to stderr).
    """
    names = {p for p, _ in passes}
    wanted = {dump_after} if isinstance(dump_after, str) else set(dump_after or ())
    unknown = wanted - names - {"all"}
    if unknown:
        raise ValueError(f"no pass named {', '.join(sorted(unknown))}; passes: "
                         f"{', '.join(p for p, _ in passes)}")
    dump = dump or (lambda name, g: print(f"--- after {name}\n{format_graph(g)}",
                                          file=sys.stderr))
    for name, fn in passes:
        graph = fn(graph)
        if validate:
            graph.validate()
        if name in wanted or "all" in wanted:
            dump(name, graph)
    return graph
