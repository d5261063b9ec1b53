"""EXP, SQRT, RSQRT, FLOOR, CEIL, ROUND, LOG, SIN, COS, SQUARE share one float32 definition: a
function per element (TFLM has no quantized kernel for them; RSQRT adds its int8 kernel in
rsqrt.py). Subclasses set `kind` and `FUNC`, numpy's float32 twin of the C expression in
fitml_<op>_f32 (the C loops share runtime_c/src/portable/fitml_float_unary.h)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef


class FloatUnaryBase(OpDef):
    FUNC: Callable[[np.ndarray], np.ndarray] = staticmethod(lambda x: x)
    DTYPES = ("float32",)

    @classmethod
    def infer(cls, op, ins):
        x = common.need(ins[0] if ins else None, "input", cls.kind)
        if x.dtype not in cls.DTYPES:
            raise GraphError(f"{cls.kind}: dtype {x.dtype} not supported (supported: "
                             f"{', '.join(cls.DTYPES)}, as in TFLite Micro)")
        return [(x.shape, x.dtype)]

    @classmethod
    def reference(cls, node: Node, args):
        with np.errstate(all="ignore"):     # NaN / inf as libm gives them
            return [cls.FUNC(np.asarray(args[0], np.float32)).astype(np.float32)]

    @classmethod
    def lower_c(cls, node: Node):
        if node.ins[0].dtype != "float32":
            raise cparams.unsupported(node)
        return cparams.in_place(CCall(f"fitml_{cls.kind.lower()}_f32", "fitml_size_params",
                                      dict(size=node.ins[0].size), cparams.io(node)), node)

    @staticmethod
    def macs(node):
        return node.outs[0].size
