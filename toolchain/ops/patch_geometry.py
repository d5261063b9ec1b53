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

from ..arith import kernel_math as km
from ..ir import Tensor

WINDOWED = ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D")
ELEMENTWISE = ("ADD", "SUB", "MUL")
SUPPORTED = WINDOWED + ELEMENTWISE


@dataclass(frozen=True)
class Box:
    """Rows [y0, y1) and columns [x0, x1) of an NHWC tensor (batch 1, all channels)."""
    y0: int
    y1: int
    x0: int
    x1: int

    h = property(lambda self: self.y1 - self.y0)
    w = property(lambda self: self.x1 - self.x0)

    def union(self, other: "Box | None") -> "Box":
        if other is None:
            return self
        return Box(min(self.y0, other.y0), max(self.y1, other.y1),
                   min(self.x0, other.x0), max(self.x1, other.x1))

    def contains(self, other: "Box") -> bool:
        return (self.y0 <= other.y0 and other.y1 <= self.y1 and self.x0 <= other.x0
                and other.x1 <= self.x1)


def whole(t: Tensor) -> Box:
    return Box(0, t.shape[1], 0, t.shape[2])


@dataclass(frozen=True)
class Window:
    """A windowed op along (rows, cols): kernel, stride, dilation, unsplit pad_before."""
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad: tuple[int, int]

    def span(self, o0: int, o1: int, axis: int) -> tuple[int, int]:
        """Unclipped input rows (axis 0) or columns (axis 1) outputs [o0, o1) read."""
        s, d, k, p = self.stride[axis], self.dilation[axis], self.kernel[axis], self.pad[axis]
        return o0 * s - p, (o1 - 1) * s - p + (k - 1) * d + 1


def window(op, tensors: dict[str, Tensor]) -> Window | None:
    """The window of a windowed op (None for element-wise ops)."""
    if op.kind not in WINDOWED:
        return None
    x, out = tensors[op.inputs[0]], tensors[op.outputs[0]]
    if op.kind == "MAX_POOL_2D":
        kernel, dilation = tuple(op.attr("filter", (1, 1))), (1, 1)
    else:
        kernel, dilation = tuple(tensors[op.inputs[1]].shape[1:3]), tuple(
            op.attr("dilation", (1, 1)))
    stride = tuple(op.attr("stride", (1, 1)))
    (top, _), (left, _) = km.window_pads(op, x.shape[1:3], kernel, stride, dilation,
                                         out.shape[1:3])
    pad = (top, left)
    return Window(kernel, stride, dilation, pad)


def activation_inputs(op, tensors: dict[str, Tensor]) -> list[str]:
    """The op's non-constant inputs, in order."""
    return [n for n in op.inputs if n and not tensors[n].is_const]


def needed(op, tensors: dict[str, Tensor], out: Box, name: str) -> Box:
    """The box of input `name` that the op's output box `out` reads (clipped to the tensor)."""
    t = tensors[name]
    win = window(op, tensors)
    if win is None:
        return out
    (r0, r1), (c0, c1) = win.span(out.y0, out.y1, 0), win.span(out.x0, out.x1, 1)
    return Box(max(r0, 0), min(r1, t.shape[1]), max(c0, 0), min(c1, t.shape[2]))


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """[start, end) of `parts` nearly equal pieces of range(n), the larger ones first."""
    base, extra = divmod(n, parts)
    edges = [0]
    for i in range(parts):
        edges.append(edges[-1] + base + (1 if i < extra else 0))
    return list(zip(edges[:-1], edges[1:]))


def grid_boxes(out: Tensor, grid: tuple[int, int]) -> list[Box]:
    """The stage output's patches in execution order (row-major)."""
    rows, cols = split(out.shape[1], grid[0]), split(out.shape[2], grid[1])
    return [Box(y0, y1, x0, x1) for y0, y1 in rows for x0, x1 in cols]


def axis_spans(ops, tensors: dict[str, Tensor], output: str, parts: int,
               axis: int) -> dict[str, list[tuple[int, int]]]:
    """Per stage tensor, the [lo, hi) each of the `parts` slices of the output along `axis`
    (0: rows, 1: columns) computes: boxes are products of a row and a column span, so the
    grid's geometry can be weighed one axis at a time."""
    spans = {output: split(tensors[output].shape[1 + axis], parts)}
    for op in reversed(ops):
        out, win = spans[op.outputs[0]], window(op, tensors)
        for name in activation_inputs(op, tensors):
            size = tensors[name].shape[1 + axis]
            need = [win.span(a, b, axis) if win else (a, b) for a, b in out]
            need = [(max(a, 0), min(b, size)) for a, b in need]
            old = spans.get(name)
            spans[name] = need if old is None else [(min(a, c), max(b, d)) for (a, b), (c, d)
                                                    in zip(old, need)]
    return spans


def tensor_boxes(ops, tensors: dict[str, Tensor], output: str, patch: Box) -> dict[str, Box]:
    """Box of every stage tensor one patch computes (inputs: the box it reads)."""
    boxes = {output: patch}
    for op in reversed(ops):
        out = boxes[op.outputs[0]]
        for name in activation_inputs(op, tensors):
            boxes[name] = needed(op, tensors, out, name).union(boxes.get(name))
    return boxes


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
