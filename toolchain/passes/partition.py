"""Patch-based partitioning (MCUNetV2): run some layers of a CNN patch by patch so their big
feature maps never exist whole, and the activation peak fits a small SRAM.

A stage replaces a run of spatial ops (one activation in, one out) by a PATCHED_STAGE over a
rows x cols grid of its output (ops/patched_stage.py); when its input dies there, its output is
laid over the input's bytes. `search` (partition_search.py) picks the stages and grids;
`partition` (partition_search.py) is the Graph -> Graph pass, `unpartition` its inverse (for
.tflite writers and oracles); backends/cpartition.py prices candidates with the C backend's
plan and makes the choice `fitml compile`/`verify` make (`for_target`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..ir import Graph, GraphError, Op
from ..ops import patch_boxes as pb
from ..ops import registry
from ..ops.patch_plan import stage_tensors
from ..ops.patched_stage import KIND, check_grid

GRIDS = tuple((r, c) for r in range(1, 9) for c in range(1, 9) if (r, c) != (1, 1))


@dataclass(frozen=True)
class Stage:
    """One PATCHED_STAGE: ops first..last of the original schedule, its grid, whether its
    output is laid over its input."""
    first: int
    last: int
    grid: tuple[int, int]
    in_place: bool

    def to_dict(self) -> dict:
        return {"ops": [self.first, self.last], "grid": list(self.grid),
                "in_place": self.in_place}


@dataclass(frozen=True)
class Partition:
    """A partitioned graph and what it costs and saves."""
    graph: Graph
    stages: tuple[Stage, ...]
    peak_before: int            # planned activation arena, layer by layer
    peak_after: int
    macs_before: int
    macs_after: int

    @property
    def overhead(self) -> float:
        """Extra MACs (halo recomputation) over the unpartitioned model's."""
        return (self.macs_after - self.macs_before) / max(self.macs_before, 1)

    def to_dict(self) -> dict:
        return {"stages": [st.to_dict() for st in self.stages],
                "peak_before_bytes": self.peak_before, "peak_after_bytes": self.peak_after,
                "macs_before": self.macs_before, "macs_after": self.macs_after,
                "mac_overhead": round(self.overhead, 6)}

    def describe(self) -> str:
        parts = ", ".join(f"ops {st.first}..{st.last} in {st.grid[0]}x{st.grid[1]} patches"
                          for st in self.stages)
        return (f"{parts}: activation peak {self.peak_before:,} B -> {self.peak_after:,} B, "
                f"MACs +{self.overhead:.1%}")


def parse_mode(spec: str):
    """--partition value: "off", "auto", or a grid "NxM" -> (N, M)."""
    spec = str(spec).strip().lower()
    if spec in ("off", "auto"):
        return spec
    m = re.fullmatch(r"(\d+)x(\d+)", spec)
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1 or spec == "1x1":
        raise ValueError(f"--partition {spec!r}: expected off, auto or a grid such as 4x4")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class Readers:
    """Per tensor, the first and last op reading it, and the graph outputs: what `stage_op`
    asks of the rest of the graph, found once for many candidate stages."""
    first: dict[str, int]
    last: dict[str, int]
    outputs: frozenset[str]

    @staticmethod
    def of(graph: Graph) -> "Readers":
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        for i, op in enumerate(graph.ops):
            for n in op.inputs:
                if n:
                    first.setdefault(n, i)
                    last[n] = i
        return Readers(first, last, frozenset(graph.outputs))


def stage_op(graph: Graph, start: int, end: int, grid: tuple[int, int],
             readers: Readers | None = None) -> Op | None:
    """The PATCHED_STAGE replacing ops start..end, or None when they cannot form one.
    `readers`: `Readers.of(graph)`, when the caller asks for many stages of one graph."""
    ops = graph.ops[start:end + 1]
    if any(len(op.outputs) != 1 or op.kind not in pb.SUPPORTED for op in ops):
        return None
    made = [n for op in ops for n in op.outputs]
    inside = set(made)
    ext, consts = [], []
    for op in ops:
        for n in op.inputs:
            if not n or n in inside:
                continue
            target = consts if graph.tensors[n].is_const else ext
            if n not in target:
                target.append(n)
    if len(ext) != 1:            # the cheap test first: most runs of a residual net fail it
        return None
    use = readers or Readers.of(graph)
    if [n for n in made if use.last.get(n, -1) > end or n in use.outputs] != \
            [ops[-1].outputs[0]]:
        return None
    x, y = graph.tensors[ext[0]], graph.tensors[ops[-1].outputs[0]]
    # the output may overwrite the input as it dies (nobody else reads it, it is big enough)
    in_place = (start <= use.first[x.name] and use.last[x.name] <= end
                and x.name not in use.outputs
                and x.nbytes >= y.nbytes and x.dtype == y.dtype)
    op = Op(KIND, (ext[0], *consts), ops[-1].outputs,
            {"ops": tuple(ops), "tensors": tuple(graph.tensors[n] for n in made),
             "grid": tuple(grid), "in_place": in_place}, name=f"patched_stage_{start}_{end}")
    try:
        registry.get(KIND).check(op, graph.op_inputs(op), ())
    except (GraphError, ValueError, KeyError, IndexError):
        return None
    return op


def regrid(graph: Graph, op: Op, grid: tuple[int, int]) -> Op | None:
    """What `stage_op` makes for the same ops over another grid, from a stage it made: only
    the grid is checked again (nothing else of the check depends on it)."""
    new = op.replace(attrs={**op.attrs, "grid": tuple(grid)})
    try:
        check_grid(new, stage_tensors(new, graph.op_inputs(new)))
    except (GraphError, ValueError, KeyError, IndexError):
        return None
    return new


def apply(graph: Graph, start: int, end: int, grid: tuple[int, int]) -> Graph | None:
    op = stage_op(graph, start, end, grid)
    if op is None:
        return None
    gone = {n for sub in op.attr("ops") for n in sub.outputs} - set(op.outputs)
    tensors = {n: t for n, t in graph.tensors.items() if n not in gone}
    return graph.replace(ops=graph.ops[:start] + (op,) + graph.ops[end + 1:], tensors=tensors)


def apply_stages(graph: Graph, stages) -> Graph:
    """`graph` with each (first, last, grid) run of ops (original indices, disjoint) made a
    PATCHED_STAGE; ValueError when one cannot be."""
    for first, last, g in sorted(stages, key=lambda st: -st[0]):
        new = apply(graph, first, last, tuple(g))
        if new is None:
            raise ValueError(f"ops {first}..{last} cannot form a patch-based stage")
        graph = new
    return graph


def unpartition(graph: Graph) -> Graph:
    """Every PATCHED_STAGE expanded back into its ops (for the .tflite writer, TFLM, ...)."""
    if not any(op.kind == KIND for op in graph.ops):
        return graph
    ops, tensors = [], dict(graph.tensors)
    for op in graph.ops:
        if op.kind != KIND:
            ops.append(op)
            continue
        ops.extend(op.attr("ops"))
        tensors.update({t.name: t for t in op.attr("tensors")})
    return graph.replace(ops=tuple(ops), tensors=tensors)
