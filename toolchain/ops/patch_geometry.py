"""Patch geometry of a PATCHED_STAGE: which box of each stage tensor every patch computes, and
what each kernel is told (view origin, extent, row pitch, padding) to compute it.

The stage output is cut into a rows x cols grid. Walking the stage's ops backwards, each op's
output box asks for an input box: for a windowed op (conv, depthwise, max pool) the rows
[o0*s - P, (o1-1)*s - P + eff) clipped to the tensor, P being the unsplit op's TFLite
pad_before; for an element-wise op the same box. A tensor read by several ops gets the bounding
box of their needs (halo recomputed per patch). A kernel then sees its input as a view whose
origin is the first row/column it needs: taps before the origin are padding only at the real
image border, taps past the view's extent only where the view ends at the real border, so each
patch is padded exactly as the unsplit op would be (TFLite's odd extra at the bottom/right).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Tensor
from .patch_boxes import Box, activation_inputs, needed, tensor_boxes, whole, window


@dataclass(frozen=True)
class Read:
    """How one op of one patch reads one activation input.

    source: the box the source memory holds (the whole tensor for the stage input), row-major
            with a row pitch of source.w pixels
    box:    the box the op needs
    origin: (row, col) of the view's first element, inside `source`
    view:   (h, w) the kernel is told; a windowed kernel's w is also its row pitch, so there
            it is source.w (element-wise kernels get the pitch as strides)
    pad:    windowed ops: pad_h, pad_w of the window relative to the view origin. The column
            pad is negative when a window needing right padding starts inside the source: the
            view then starts at the source's first column so that its width ends at the real
            border (the kernels bound taps by [0, input.w) with signed positions).
    """
    tensor: str
    source: Box
    box: Box
    origin: tuple[int, int]
    view: tuple[int, int]
    pad: tuple[int, int]

    @property
    def offset(self) -> int:
        """Pixels from the source's first element to the view origin."""
        return (self.origin[0] - self.source.y0) * self.source.w + self.origin[1] - self.source.x0


@dataclass(frozen=True)
class Step:
    """One op of one patch: the output box it writes (contiguously) and its reads."""
    op: int
    out: Box
    reads: tuple[Read, ...]


def read_of(op, tensors, name: str, source: Box, out: Box) -> Read:
    need = needed(op, tensors, out, name)
    if not source.contains(need):
        raise AssertionError(f"{op.kind}: needs {need} of {name!r}, buffer holds {source}")
    win = window(op, tensors)
    if win is None:                       # element-wise: a strided view of the needed box
        return Read(name, source, need, (need.y0, need.x0), (need.h, need.w), (0, 0))
    (r0, _), (c0, c1) = win.span(out.y0, out.y1, 0), win.span(out.x0, out.x1, 1)
    col = source.x0 if c1 > tensors[name].shape[2] else need.x0
    # rows to the end of the source: past it is padding exactly at the real border
    return Read(name, source, need, (need.y0, col), (source.y1 - need.y0, source.w),
                (need.y0 - r0, col - c0))


def patch_steps(ops, tensors: dict[str, Tensor], inputs: tuple[str, ...], output: str,
                patch: Box) -> list[Step]:
    """The per-op geometry of one patch, in op order."""
    boxes = tensor_boxes(ops, tensors, output, patch)
    steps = []
    for i, op in enumerate(ops):
        out = boxes[op.outputs[0]]
        reads = tuple(read_of(op, tensors, n, whole(tensors[n]) if n in inputs else boxes[n],
                              out) for n in activation_inputs(op, tensors))
        steps.append(Step(i, out, reads))
    return steps
