"""PAD folding: an explicit PAD / PADV2 of the spatial dims before a CONV_2D,
DEPTHWISE_CONV_2D or MAX_POOL_2D becomes the window's own padding, when that computes exactly
what the padded tensor did (the form PyTorch and ONNX exports take: PAD, then a VALID conv).

Exact only when the padded taps add nothing the op's own padding would not:
- conv / depthwise: the fill is the input zero point (int8, int16) or 0.0 (float), which a
  zero-point-corrected tap turns into 0 (a window's own padding skips the tap: same sum);
- max pool: the fill is the dtype's lowest value (-inf or float32's lowest for float), which
  never beats a tap inside the image, and every window keeps one such tap (pads < filter);
- the PAD copies bytes unchanged: same dtype and quantization on both sides.
AVERAGE_POOL_2D is never folded: PAD + VALID divides by the whole window, TFLite's own padding
by the taps inside the image. The result is SAME or VALID when those read the same windows,
else EXPLICIT with `explicit_padding` ((top, bottom), (left, right)); the .tflite writer turns
EXPLICIT back into PAD + VALID (passes/unfold_pads.py).
"""
from __future__ import annotations

import numpy as np

from ..arith import kernel_math as km
from ..ir import Graph, Node, Op
from ..ops.padv2 import fill_of
from .edit import apply_rules, producer_of, substitute
from .layout import const_data

FOLDABLE = ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D")


def window(graph: Graph, op: Op) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(kernel, stride, dilation) of a conv, depthwise conv or pool."""
    if op.kind.endswith("POOL_2D"):
        kernel, dilation = tuple(op.attr("filter", (1, 1))), (1, 1)
    else:
        kernel, dilation = tuple(graph.tensors[op.inputs[1]].shape[1:3]), tuple(
            op.attr("dilation", (1, 1)))
    return kernel, tuple(op.attr("stride", (1, 1))), dilation


def padding_attrs(in_hw, kernel, stride, dilation, pads) -> dict:
    """The `padding` (and `explicit_padding`) attributes reading the windows that `pads`
    ((top, bottom), (left, right), bottom/right as far as a window reaches) give."""
    out_hw = [km.explicit_out_size(i, k, s, d, *p)
              for i, k, s, d, p in zip(in_hw, kernel, stride, dilation, pads)]
    for name in ("VALID", "SAME"):
        same = Op("X", (), (), {"padding": name})
        if (all(km.out_size(i, k, s, d, name) == o
                for i, k, s, d, o in zip(in_hw, kernel, stride, dilation, out_hw))
                and km.window_pads(same, in_hw, kernel, stride, dilation, out_hw) == pads):
            return {"padding": name}
    return {"padding": "EXPLICIT", "explicit_padding": pads}


def _spatial_pads(graph: Graph, pad: Op):
    """((top, bottom), (left, right)) of a rank-4 PAD touching only H and W, else None."""
    pads = const_data(graph, pad.inputs[1]) if len(pad.inputs) > 1 else None
    if pads is None or np.shape(pads) != (4, 2):
        return None
    pads = np.asarray(pads, np.int64)
    if pads[0].any() or pads[3].any() or (pads < 0).any():
        return None
    return (int(pads[1, 0]), int(pads[1, 1])), (int(pads[2, 0]), int(pads[2, 1]))


def _fill_neutral(graph: Graph, pad: Op, kind: str) -> bool:
    """The PAD's fill adds nothing to `kind`'s result (see the module docstring)."""
    x, y = graph.tensors[pad.inputs[0]], graph.tensors[pad.outputs[0]]
    if x.dtype != y.dtype or not (x.quant is None and y.quant is None
                                  or x.quant is not None and x.quant.same_as(y.quant)):
        return False
    fill = np.asarray(fill_of(Node.of(graph, pad))).reshape(-1)[0]
    if kind == "MAX_POOL_2D":
        if x.dtype == "float32":
            return bool(fill <= np.finfo(np.float32).min)
        return x.dtype in ("int8", "int16") and int(fill) == np.iinfo(x.dtype).min
    if x.dtype == "float32":
        return bool(fill == 0)
    return x.dtype in ("int8", "int16") and x.quant is not None and int(fill) == x.quant.zp


def fold_pad(graph, i, users):
    """PAD(x) -> conv / depthwise / max pool  =>  the op reads x with the padding itself."""
    op = graph.ops[i]
    if op.kind not in FOLDABLE:
        return None
    p = producer_of(users, op.inputs[0])
    if p is None or graph.ops[p].kind not in ("PAD", "PADV2"):
        return None
    pad = graph.ops[p]
    extra = _spatial_pads(graph, pad)
    if extra is None or not _fill_neutral(graph, pad, op.kind):
        return None
    kernel, stride, dilation = window(graph, op)
    padded, x = graph.tensors[op.inputs[0]], graph.tensors[pad.inputs[0]]
    out_hw = graph.tensors[op.outputs[0]].shape[1:3]
    own = km.window_pads(op, padded.shape[1:3], kernel, stride, dilation, out_hw)
    pads = tuple(km.reached_pads(i, k, s, d, o, e[0] + w[0])
                 for i, k, s, d, o, e, w in zip(x.shape[1:3], kernel, stride, dilation, out_hw,
                                                extra, own))
    if any(v >= (k - 1) * d + 1 for (a, b), k, d in zip(pads, kernel, dilation) for v in (a, b)):
        return None     # a window wholly in the padding: no real model has it; keep the PAD
    attrs = {k: v for k, v in op.attrs.items() if k != "explicit_padding"}
    attrs.update(padding_attrs(x.shape[1:3], kernel, stride, dilation, pads))
    return substitute(graph, i, op.replace(inputs=[pad.inputs[0], *op.inputs[1:]], attrs=attrs))


RULES = [
    fold_pad,   # PAD/PADV2 (fill neutral) -> CONV_2D / DEPTHWISE_CONV_2D / MAX_POOL_2D padding
]


def fold_pads(graph: Graph) -> Graph:
    return apply_rules(graph, RULES)
