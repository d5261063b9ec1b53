"""EMBEDDING_LOOKUP: rows of a table picked by a 1-D int32 lookup, as TFLM's
embedding_lookup.cc. Inputs are (lookup, table), the reverse of GATHER's:

    out[i, ...] = table[lookup[i], ...]

float32 and int8 tables are raw row copies (an int8 output takes the bytes as they are, its
quantization is not read). An int8 table with a float32 output is TFLM's hybrid lookup: each
value dequantized as (q - 0) * scale in float32 (per-tensor scale, zero point 0, as TFLM
requires). A lookup outside [0, rows) makes TFLM fail the inference: constant lookups are
refused when the graph is built, runtime ones make the reference raise a UsageError and the C
kernel return FITML_ERR_ARGUMENT.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8", "hybrid")     # tables (hybrid: int8 table, float32 output)
# table dtype -> output dtypes TFLM takes
OUTPUTS = {"float32": ("float32",), "int8": ("int8", "float32")}


def is_hybrid(node: Node) -> bool:
    return node.ins[1].dtype == "int8" and node.outs[0].dtype == "float32"


@register
class EmbeddingLookup(OpDef):
    kind = "EMBEDDING_LOOKUP"
    output_dtype_attr = "output_dtype"   # float32 from an int8 table: the hybrid lookup

    @staticmethod
    def infer(op, ins):
        idx = common.need(ins[0] if ins else None, "lookup", "EMBEDDING_LOOKUP")
        table = common.need(ins[1] if len(ins) > 1 else None, "table", "EMBEDDING_LOOKUP")
        if idx.dtype != "int32" or len(idx.shape) != 1:
            raise GraphError(f"EMBEDDING_LOOKUP: lookup {idx.name!r} must be 1-D int32, not "
                             f"{idx.dtype}{list(idx.shape)}")
        if table.dtype not in OUTPUTS or len(table.shape) < 2:
            raise GraphError(f"EMBEDDING_LOOKUP: {table.dtype} table {table.name!r} of rank "
                             f"{len(table.shape)} is not supported (TFLite Micro takes "
                             "float32 or int8, rank >= 2)")
        if idx.is_const and idx.size:
            data = np.asarray(idx.data, np.int64)
            if data.min() < 0 or data.max() >= table.shape[0]:
                raise GraphError(f"EMBEDDING_LOOKUP: constant lookup {idx.name!r} leaves "
                                 f"[0, {table.shape[0]})")
        out = op.attr("output_dtype", table.dtype)
        if out not in OUTPUTS[table.dtype]:
            raise GraphError(f"EMBEDDING_LOOKUP: a {table.dtype} table gives "
                             f"{' or '.join(OUTPUTS[table.dtype])}, not {out}")
        return [(idx.shape + table.shape[1:], out)]

    @staticmethod
    def check(op, ins, outs):
        table, out = ins[1], outs[0]
        if table.dtype != "int8" or out.dtype != "float32":
            return
        q = table.quant
        if q is None or q.scale.size != 1 or np.any(q.zero_point != 0):
            scales = 0 if q is None else q.scale.size
            raise GraphError(f"EMBEDDING_LOOKUP: the int8 table {table.name!r} of a float32 "
                             f"lookup has {scales} scales; TFLite Micro takes one scale and "
                             "zero point 0 (it dequantizes every row with the first scale)")

    @staticmethod
    def reference(node: Node, args):
        rows = node.ins[1].shape[0]
        idx = np.asarray(args[0], np.int64).reshape(-1)
        bad = (idx < 0) | (idx >= rows)
        if bad.any():
            raise UsageError(f"EMBEDDING_LOOKUP {node.outs[0].name!r}: lookup "
                             f"{int(idx[bad][0])} outside [0, {rows})")
        out = np.asarray(args[1])[idx]
        if is_hybrid(node):
            scale = np.float32(node.ins[1].quant.scale.reshape(-1)[0])
            out = out.astype(np.float32) * scale
        return [out.reshape(node.outs[0].shape)]

    @staticmethod
    def lower_c(node: Node):
        """fitml_embedding_lookup (row copies) or _hybrid_f32 (rows dequantized)."""
        idx, table = node.ins[0], node.ins[1]
        hybrid = is_hybrid(node)
        params = dict(lookups=idx.size, rows=table.shape[0],
                      columns=table.size // max(table.shape[0], 1),
                      elem_size=np.dtype(table.dtype).itemsize,
                      scale=float(table.quant.scale.reshape(-1)[0]) if hybrid else 0.0)
        kernel = "fitml_embedding_lookup" + ("_hybrid_f32" if hybrid else "")
        return CCall(kernel, "fitml_embedding_lookup_params", params,
                     (cparams.ref(idx), cparams.ref(table), cparams.ref(node.outs[0])))
