"""Boxes of a PATCHED_STAGE's tensors: the stage output cut into a rows x cols grid, and for
each patch the box of every stage tensor it computes, walking the ops backwards (see
patch_geometry.py for the rule); `axis_spans` gives the same one axis at a time."""
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
