"""CAST: element-wise type conversion among float32, int8, int16, int32 and bool (TFLM cast.cc:
`static_cast` per element; quantization is not read).

The output dtype is the attr `dtype` (the reader fills it from the output tensor; absent, float32).
To bool is `x != 0`; from bool 0 / 1; float to integer truncates toward zero and saturates
at the integer type's range (what the TFLM build fitml verifies against computes); integer to
a narrower integer wraps. NaN to an integer (undefined in C++) gives 0 here.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

TYPE_CODES = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "bool": 4}


def cast(x: np.ndarray, out: str) -> np.ndarray:
    """TFLM's CAST of x to dtype `out`."""
    x = np.asarray(x)
    if out == "bool":
        return x != 0
    if x.dtype.kind == "f" and out != "float32":
        info = np.iinfo(out)
        x = np.clip(np.trunc(np.nan_to_num(x, nan=0.0)), info.min, info.max).astype(np.int64)
    return x.astype(out)


@register
class Cast(OpDef):
    kind = "CAST"
    tflite_options = "CastOptions"
    output_dtype_attr = "dtype"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "CAST")
        out = op.attr("dtype", "float32")
        for what, dtype in (("input", x.dtype), ("output", out)):
            if dtype not in TYPE_CODES:
                raise GraphError(f"CAST: {what} dtype {dtype} not supported (supported: "
                                 f"{', '.join(TYPE_CODES)}, as in TFLite Micro)")
        return [(x.shape, out)]

    @staticmethod
    def reference(node: Node, args):
        return [cast(args[0], node.outs[0].dtype)]

    @staticmethod
    def lower_c(node: Node):
        """fitml_cast: one kernel, the two element types as codes."""
        x, out = node.ins[0], node.outs[0]
        return CCall("fitml_cast", "fitml_cast_params",
                     dict(size=x.size, input_type=TYPE_CODES[x.dtype],
                          output_type=TYPE_CODES[out.dtype]), cparams.io(node))
