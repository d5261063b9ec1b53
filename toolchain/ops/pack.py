"""PACK: stack `values_count` inputs of one shape along a new `axis` of the output.

TFLM's pack copies raw elements (float32, int8, int16, int32, int64) and reads no
quantization: the converter gives every input the output's scale and zero point, and the
reference, like TFLM, copies bytes whatever they are. The C lowering is a CONCATENATION: per
outer index, each input's chunk in turn.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .concatenation import positive_axis
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8", "int16", "int32", "int64")   # what TFLM's pack takes


def pack_axis(op, out_rank: int) -> int:
    return positive_axis(int(op.attr("axis", 0)), out_rank, "PACK")


@register
class Pack(OpDef):
    kind = "PACK"
    tflite_options = "PackOptions"

    @staticmethod
    def infer(op, ins):
        if not ins:
            raise GraphError("PACK: no inputs")
        xs = [common.need(t, f"input {i}", "PACK") for i, t in enumerate(ins)]
        first = xs[0]
        if first.dtype not in DTYPES:
            raise GraphError(f"PACK: {first.dtype} input {first.name!r} is not supported "
                             f"(TFLite Micro takes {', '.join(DTYPES)})")
        for t in xs[1:]:
            if t.shape != first.shape or t.dtype != first.dtype:
                raise GraphError(f"PACK: input {t.name!r} is {t.dtype}{list(t.shape)}, "
                                 f"{first.name!r} is {first.dtype}{list(first.shape)}")
        count = int(op.attr("values_count", len(xs)))
        if count != len(xs):
            raise GraphError(f"PACK: values_count {count} but {len(xs)} inputs")
        axis = pack_axis(op, len(first.shape) + 1)
        return [(first.shape[:axis] + (len(xs),) + first.shape[axis:], first.dtype)]

    @staticmethod
    def reference(node: Node, args):
        axis = pack_axis(node.op, len(node.outs[0].shape))
        return [np.stack([np.asarray(a) for a in args], axis=axis)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(values_count=int(common.options_get(o, "valuesCount", 0)),
                    axis=int(common.options_get(o, "axis", 0)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.PackOptionsT()
        o.valuesCount = int(attrs.get("values_count", 0))
        o.axis = int(attrs.get("axis", 0))
        return o

    @staticmethod
    def lower_c(node: Node):
        """fitml_concat: each input's chunk below the axis, per outer index."""
        out = node.outs[0]
        axis = pack_axis(node.op, len(out.shape))
        chunk = int(np.prod(out.shape[axis + 1:], dtype=np.int64)) * np.dtype(out.dtype).itemsize
        params = dict(num_inputs=len(node.ins),
                      outer=int(np.prod(out.shape[:axis], dtype=np.int64)),
                      chunk_bytes=cparams.i32([chunk] * len(node.ins)))
        return CCall("fitml_concat", "fitml_concat_params", params,
                     (tuple(cparams.ref(t) for t in node.ins), cparams.ref(out)))
