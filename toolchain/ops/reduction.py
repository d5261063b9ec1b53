"""What SUM and REDUCE_MAX share: the shape rule over constant int32 axes (keep_dims from
ReducerOptions), a fold in TFLM's order (ReduceGeneric walks the input row-major, so each
output folds its reduced elements in row-major order) and the two walks of the C kernels.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from ..lowering import cparams
from . import common
from .mean import resolve_axes
from .registry import Node


def infer_reduced(kind: str, op, ins, dtypes: tuple[str, ...]):
    """[(shape, dtype)] of a reduction of ins[0] over the constant axes ins[1]."""
    x = common.need(ins[0] if ins else None, "input", kind)
    if x.dtype not in dtypes:
        raise GraphError(f"{kind}: {x.dtype} input {x.name!r} is not supported "
                         f"(TFLite Micro takes {', '.join(dtypes)})")
    axis_t = ins[1] if len(ins) > 1 else None
    if axis_t is not None and axis_t.dtype != "int32":
        raise GraphError(f"{kind}: axis must be int32, not {axis_t.dtype}")
    axes = resolve_axes(ins, kind)
    keep = op.attr("keep_dims", False)
    return [(tuple(1 if i in axes else d for i, d in enumerate(x.shape)
                   if keep or i not in axes), x.dtype)]


def fold(node: Node, x: np.ndarray, init, step) -> np.ndarray:
    """[outer, ...] accumulators: acc = step(acc, value) over the reduced elements in order."""
    axes = resolve_axes(node.ins)
    kept = [a for a in range(x.ndim) if a not in axes]
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    cols = np.transpose(x, kept + list(axes)).reshape(-1, n)
    acc = np.full(cols.shape[0], init, cols.dtype)
    for i in range(n):
        acc = step(acc, cols[:, i])
    return acc


def walks(node: Node) -> dict:
    """outer (kept) and inner (reduced) walks and the reduced count, as MEAN's kernels take."""
    x = node.ins[0]
    axes = resolve_axes(node.ins)
    steps = cparams.strides(x.shape)
    kept = [a for a in range(len(x.shape)) if a not in axes]
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if count == 0:
        raise cparams.unsupported(node, "a reduction over an empty axis")
    return dict(outer=cparams.walk([x.shape[a] for a in kept], [steps[a] for a in kept]),
                inner=cparams.walk([x.shape[a] for a in axes], [steps[a] for a in axes]),
                count=count)


def keep_dims_from_tflite(o) -> dict:
    return dict(keep_dims=bool(common.options_get(o, "keepDims", False)))


def keep_dims_to_tflite(attrs) -> "schema.ReducerOptionsT":
    o = schema.ReducerOptionsT()
    o.keepDims = bool(attrs.get("keep_dims", False))
    return o
