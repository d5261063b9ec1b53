"""A PATCHED_STAGE's parts, shared by its op (patched_stage.py), its lowering
(patch_lowering.py) and its C text (patch_emit.py): the stage's tensors, its ops as nodes, the
per-patch geometry, and the StagePlan the lowering fills.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import Node, Op, Tensor
from ..lowering.ccall import CCall
from . import patch_boxes as pb
from . import patch_geometry as pg


def stage_tensors(op: Op, ins) -> dict[str, Tensor]:
    """Name -> Tensor of everything the stage's ops read or write."""
    tensors = {t.name: t for t in ins if t is not None}
    tensors.update({t.name: t for t in op.attr("tensors", ())})
    return tensors


def sub_node(sub: Op, tensors: dict[str, Tensor]) -> Node:
    return Node(sub, tuple(tensors[n] if n else None for n in sub.inputs),
                tuple(tensors[n] for n in sub.outputs))


def patches(op: Op, tensors: dict[str, Tensor]) -> list[list[pg.Step]]:
    """Per patch (row-major), the geometry of every op."""
    out = tensors[op.outputs[0]]
    return [pg.patch_steps(op.attr("ops"), tensors, op.inputs[:1], out.name, box)
            for box in pb.grid_boxes(out, tuple(op.attr("grid")))]


@dataclass
class StagePlan:
    """Patch geometry, the full-size lowering of each op and the stage's scratch layout.

    The last op writes each patch's output box straight into the stage output (full-width
    patches whose bytes no later read needs) or into an output slot of the scratch, copied into
    place after that patch (`flush[p]`: the slots copied after patch p). With `in_place`, the
    output shares the dying input's bytes: a patch's box is flushed only once no patch still to
    run reads those bytes of the input (MCUNetV2's output buffer laid over the input image).
    """
    node: Node
    tensors: dict
    steps: list[list[pg.Step]]              # per patch, per op
    calls: list[CCall]                      # full-size lowering of each op
    in_place: bool = False
    size: int = 0                           # scratch bytes of the whole stage
    offsets: dict = field(default_factory=dict)   # ("t", name) / ("scratch", k) / ("out",)
    slots: dict = field(default_factory=dict)     # patch -> offset of its output slot in "out"
    flush: list = field(default_factory=list)     # patch -> patches whose slots are copied after

    @property
    def ops(self):
        return self.node.op.attr("ops")
