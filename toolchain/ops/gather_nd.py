"""GATHER_ND: slices of the input picked by index tuples, as TFLM's gather_nd.cc: the last
dimension of the int32 indices (a constant or a runtime tensor) holds `depth` coordinates into
the input's leading dimensions, and each tuple copies the slice of the remaining dimensions:

    out[i..., :] = in[indices[i..., 0], ..., indices[i..., depth - 1], :]

Raw element copies (float32, int8, int32; quantization is not read), depth <= 5 as in TFLM.
Every coordinate must lie in [0, its dimension), as TensorFlow defines the op: constant
indices outside are refused when the graph is built; runtime ones make the reference raise a
UsageError and the C kernel return FITML_ERR_ARGUMENT. (TFLM checks only that the flat offset
of the slice lies inside the input, so it fails on most such indices but copies from a
neighbouring row for some, e.g. [0, 3] of a 2 x 3 input; fitml never does.)
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

DTYPES = ("float32", "int8", "int32")
MAX_DEPTH = 5       # TFLM's MAX_INDICES_ND


def outside(coords: np.ndarray, dims) -> np.ndarray:
    """Mask of the index tuples (rows of `coords`) with a coordinate outside its dimension."""
    return ((coords < 0) | (coords >= np.asarray(dims, np.int64))).any(axis=-1)


@register
class GatherNd(OpDef):
    kind = "GATHER_ND"
    tflite_options = "GatherNdOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "params", "GATHER_ND")
        idx = common.need(ins[1] if len(ins) > 1 else None, "indices", "GATHER_ND")
        if x.dtype not in DTYPES or not x.shape:
            raise GraphError(f"GATHER_ND: {x.dtype} params {x.name!r} of rank {len(x.shape)} "
                             f"are not supported (TFLite takes {', '.join(DTYPES)}, rank >= 1)")
        if idx.dtype != "int32" or not idx.shape:
            raise GraphError(f"GATHER_ND: indices {idx.name!r} must be int32 of rank >= 1, "
                             f"not {idx.dtype}{list(idx.shape)}")
        depth = idx.shape[-1]
        if not 1 <= depth <= min(len(x.shape), MAX_DEPTH):
            raise GraphError(f"GATHER_ND: index depth {depth} (last dim of {idx.name!r}) must "
                             f"be in [1, {min(len(x.shape), MAX_DEPTH)}] for the rank-"
                             f"{len(x.shape)} params (TFLM takes at most {MAX_DEPTH})")
        if idx.is_const:
            coords = np.asarray(idx.data, np.int64).reshape(-1, depth)
            bad = outside(coords, x.shape[:depth])
            if bad.any():
                raise GraphError(f"GATHER_ND: constant indices {idx.name!r} hold "
                                 f"{coords[bad][0].tolist()}, outside the params' leading "
                                 f"dims {list(x.shape[:depth])}")
        return [(idx.shape[:-1] + x.shape[depth:], x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        x, idx = node.ins[0], node.ins[1]
        depth = idx.shape[-1]
        coords = np.asarray(args[1], np.int64).reshape(-1, depth)
        bad = outside(coords, x.shape[:depth])
        if bad.any():
            raise UsageError(f"GATHER_ND {node.outs[0].name!r}: index {coords[bad][0].tolist()} "
                             f"outside the params' leading dims {list(x.shape[:depth])}")
        data = np.asarray(args[0])
        out = data[tuple(coords.T)] if coords.size else data[:0]
        return [np.asarray(out, data.dtype).reshape(node.outs[0].shape)]

    @staticmethod
    def attrs_to_tflite(attrs):
        return schema.GatherNdOptionsT()

    @staticmethod
    def lower_c(node: Node):
        """fitml_gather_nd: one checked memcpy per index tuple."""
        x, idx = node.ins[0], node.ins[1]
        depth = idx.shape[-1]
        item = np.dtype(x.dtype).itemsize
        steps = cparams.strides(x.shape)[:depth]
        params = dict(slices=int(np.prod(idx.shape[:-1], dtype=np.int64)), depth=depth,
                      slice_bytes=int(np.prod(x.shape[depth:], dtype=np.int64)) * item,
                      dims=cparams.i32(x.shape[:depth]),
                      strides=cparams.i32([s * item for s in steps]))
        return CCall("fitml_gather_nd", "fitml_gather_nd_params", params,
                     (cparams.ref(x), cparams.ref(idx), cparams.ref(node.outs[0])))
