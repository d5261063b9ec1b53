"""GATHER: slices of the input along `axis` picked by int32 indices (a constant or a runtime
tensor), with `batch_dims` leading dimensions shared by input and indices, as TFLM's gather.

out[batch, outer, k, inner] = in[batch, outer, indices[batch, k], inner]. Raw element copies
(float32, int8 in TFLM; quantization is not read). An index outside [0, axis size) makes TFLM
fail the inference; the reference raises a UsageError and the C kernel returns
FITML_ERR_ARGUMENT.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..errors import UsageError
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8")


def geometry(op, x, idx) -> tuple[int, int]:
    """(axis, batch_dims) after TFLM's Prepare checks."""
    rank = len(x.shape)
    axis = int(op.attr("axis", 0))
    axis += rank if axis < 0 else 0
    batch_dims = int(op.attr("batch_dims", 0))
    batch_dims += len(idx.shape) if batch_dims < 0 else 0
    if not 0 <= axis < rank:
        raise GraphError(f"GATHER: axis {op.attr('axis', 0)} out of range for rank {rank}")
    if not 0 <= batch_dims <= min(axis, len(idx.shape)) or batch_dims >= rank:
        raise GraphError(f"GATHER: batch_dims {batch_dims} must be in [0, axis {axis}] and "
                         f"at most the indices' rank {len(idx.shape)}")
    if x.shape[:batch_dims] != idx.shape[:batch_dims]:
        raise GraphError(f"GATHER: batch dims {list(x.shape[:batch_dims])} of the input and "
                         f"{list(idx.shape[:batch_dims])} of the indices differ")
    return axis, batch_dims


def sizes(x, idx, axis: int, batch_dims: int) -> tuple[int, int, int, int]:
    """(batch, outer, coords per batch, inner) element counts."""
    prod = lambda dims: int(np.prod(dims, dtype=np.int64))  # noqa: E731
    return (prod(x.shape[:batch_dims]), prod(x.shape[batch_dims:axis]),
            prod(idx.shape[batch_dims:]), prod(x.shape[axis + 1:]))


@register
class Gather(OpDef):
    kind = "GATHER"
    tflite_options = "GatherOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "GATHER")
        idx = common.need(ins[1] if len(ins) > 1 else None, "indices", "GATHER")
        if x.dtype not in DTYPES:
            raise GraphError(f"GATHER: {x.dtype} input {x.name!r} is not supported "
                             f"(TFLite Micro takes {', '.join(DTYPES)})")
        if idx.dtype != "int32":
            raise GraphError(f"GATHER: {idx.dtype} indices {idx.name!r} are not supported "
                             "(TFLite Micro takes int32)")
        axis, batch_dims = geometry(op, x, idx)
        if idx.is_const:
            data = np.asarray(idx.data)
            if data.size and (data.min() < 0 or data.max() >= x.shape[axis]):
                raise GraphError(f"GATHER: constant indices {idx.name!r} leave [0, "
                                 f"{x.shape[axis]})")
        return [(x.shape[:axis] + idx.shape[batch_dims:] + x.shape[axis + 1:], x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        x, idx = node.ins[0], node.ins[1]
        axis, batch_dims = geometry(node.op, x, idx)
        batch, outer, count, inner = sizes(x, idx, axis, batch_dims)
        coords = np.asarray(args[1], np.int64).reshape(batch, count)
        bad = (coords < 0) | (coords >= x.shape[axis])
        if bad.any():
            raise UsageError(f"GATHER {node.outs[0].name!r}: index {int(coords[bad][0])} "
                             f"outside [0, {x.shape[axis]})")
        data = np.asarray(args[0]).reshape(batch, outer, x.shape[axis], inner)
        out = np.stack([data[b][:, coords[b]] for b in range(batch)])
        return [out.reshape(node.outs[0].shape)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(axis=int(common.options_get(o, "axis", 0)),
                    batch_dims=int(common.options_get(o, "batchDims", 0)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.GatherOptionsT()
        o.axis = int(attrs.get("axis", 0))
        o.batchDims = int(attrs.get("batch_dims", 0))
        return o

    @staticmethod
    def lower_c(node: Node):
        """fitml_gather_axis: per batch and outer index, one memcpy per index."""
        x, idx = node.ins[0], node.ins[1]
        axis, batch_dims = geometry(node.op, x, idx)
        batch, outer, count, inner = sizes(x, idx, axis, batch_dims)
        params = dict(batch=batch, outer=outer, coord_size=count, axis_size=x.shape[axis],
                      inner_bytes=inner * np.dtype(x.dtype).itemsize)
        return CCall("fitml_gather_axis", "fitml_gather_axis_params", params,
                     (cparams.ref(x), cparams.ref(idx), cparams.ref(node.outs[0])))
