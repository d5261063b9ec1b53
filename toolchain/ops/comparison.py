"""EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL share one definition: an
element-wise comparison with NumPy broadcasting and a bool output (TFLM comparisons.cc).

float32 and int32 compare the values; bool (EQUAL and NOT_EQUAL only, as in TFLM) compares
truth values. int8 (TFLM `*WithScaling`) compares rescaled values:
each input's (q - zp) << 8 is multiplied by its own scale quantized as a multiplier
(QuantizeMultiplierSmallerThanOneExp, so a scale must be below 1), which compares two inputs
of different scales on one fixed-point axis. One C kernel per dtype takes the comparison as an
op code (`FITML_CMP_*` in fitml_compare.h, the index in `CODES`).
"""
from __future__ import annotations

import operator

import numpy as np

from ..arith import fixedpoint as fp
from ..arith.addsub import scale_down
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import broadcast
from .registry import Node, OpDef

NUMERIC = ("float32", "int8", "int32")     # every comparison; EQUAL / NOT_EQUAL add bool
LEFT_SHIFT = 8       # TFLM comparisons_common.cc kLeftShift
CODES = ("EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL")
COMPARE = dict(zip(CODES, (operator.eq, operator.ne, operator.gt, operator.ge, operator.lt,
                           operator.le)))


def scaled(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """TFLM's int8 comparison operand: MBQM-smaller-than-one((q - zp) << 8, scale)."""
    mult, shift = fp.quantize_multiplier(float(scale))
    return scale_down((fp.i64(q) - zero_point) << LEFT_SHIFT, mult, shift)


def scaling(t) -> dict:
    """offset, multiplier, shift of one int8 input (the C params)."""
    mult, shift = fp.quantize_multiplier(float(t.quant.s))
    return dict(offset=-int(t.quant.zp), multiplier=mult, shift=shift)


class ComparisonBase(OpDef):
    """Shared definition; subclasses set `kind`, `tflite_options` and `DTYPES`."""

    DTYPES = NUMERIC

    @classmethod
    def infer(cls, op, ins):
        shape, _ = broadcast.binary_infer(cls.kind, ins, cls.DTYPES)[0]
        return [(shape, "bool")]

    @classmethod
    def check(cls, op, ins, outs):
        if ins[0].dtype != "int8":
            return
        broadcast.check_per_tensor(cls.kind, ins[:2])
        for t in ins[:2]:
            if not 0.0 < float(t.quant.s) < 1.0:
                raise GraphError(f"{cls.kind}: int8 input {t.name!r} has scale "
                                 f"{float(t.quant.s):g}; TFLite Micro needs 0 < scale < 1")

    @classmethod
    def reference(cls, node: Node, args):
        a, b = (np.asarray(x) for x in args[:2])
        if node.ins[0].dtype == "bool":
            a, b = a.astype(bool), b.astype(bool)
        elif node.ins[0].dtype == "int8":
            a, b = (scaled(x, t.quant.s, int(t.quant.zp)) for x, t in zip((a, b), node.ins))
        return [np.asarray(COMPARE[cls.kind](*np.broadcast_arrays(a, b)), np.bool_)]

    @classmethod
    def lower_c(cls, node: Node):
        """fitml_compare_<f32|s8|s32|bool>: the broadcast walk, the op code, int8 scalings."""
        x, y = node.ins[:2]
        kernel = {"float32": "fitml_compare_f32", "int8": "fitml_compare_s8",
                  "int32": "fitml_compare_s32", "bool": "fitml_compare_bool"}.get(x.dtype)
        if kernel is None:
            raise cparams.unsupported(node)
        params = dict(bc=cparams.broadcast(node), op=CODES.index(cls.kind))
        for k, t in ((1, x), (2, y)):
            s = scaling(t) if t.dtype == "int8" else dict(offset=0, multiplier=0, shift=0)
            params.update({f"input{k}_{name}": v for name, v in s.items()})
        return CCall(kernel, "fitml_compare_params", params,
                     cparams.binary_io(node))

    @staticmethod
    def macs(node):
        return node.outs[0].size
