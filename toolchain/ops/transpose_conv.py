"""TRANSPOSE_CONV: inputs in TFLite's order (output_shape, filter [C_out, KH, KW, C_in], input
NHWC, optional bias), TFLite Micro's reference "scatter": every input pixel adds input * filter
into the output window it reaches; the window starts at in * stride - pad, where pad is the
padding of a conv from the output's size back to the input's (TFLM's ComputePaddingHeightWidth
on the output). float32 sums in the output itself; int8 (per-channel filter) in an int32
scratch of the output's size, then bias, requantization and clamp per channel. The 16x8 kernel
(int64 scratch) is a variant (transpose_conv_int16.py).
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..arith import fixedpoint as fp
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall, Scratch, TensorRef
from . import common, int16
from .opdef import OpDef
from .registry import FLOAT, INT8, Node, register
from .transpose_conv_scatter import geom, scatter

KIND = "TRANSPOSE_CONV"
BIAS_DTYPES = {"float32": "float32", "int8": "int32", "int16": "int64"}
ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def input_filter_dtypes(node: Node) -> tuple[str, str]:
    """(input, filter) dtypes: the input is operand 2."""
    return node.ins[2].dtype, node.ins[1].dtype


def operands(ins) -> tuple:
    """(output_shape values, filter, input, bias or None) after the shape checks."""
    shape = common.const_ints(ins[0] if ins else None, "output_shape", KIND)
    w = common.need(ins[1] if len(ins) > 1 else None, "filter", KIND)
    x = common.need(ins[2] if len(ins) > 2 else None, "input", KIND)
    b = ins[3] if len(ins) > 3 else None
    if len(x.shape) != 4 or len(w.shape) != 4 or shape.shape != (4,):
        raise GraphError(f"{KIND}: input, filter and output_shape must be 4-D, got "
                         f"{list(x.shape)}, {list(w.shape)}, {shape.tolist()}")
    if x.shape[3] != w.shape[3] or shape[0] != x.shape[0] or shape[3] != w.shape[0]:
        raise GraphError(f"{KIND}: input {list(x.shape)}, filter {list(w.shape)} and "
                         f"output_shape {shape.tolist()} do not match")
    return shape, w, x, b


@register
class TransposeConv(OpDef):
    kind = KIND
    tflite_options = "TransposeConvOptions"
    signature = staticmethod(input_filter_dtypes)     # 16x8: transpose_conv_int16.py
    own_dtypes = FLOAT + INT8

    @staticmethod
    def infer(op, ins):
        shape, w, x, _ = operands(ins)
        if x.dtype not in BIAS_DTYPES:
            raise GraphError(f"{KIND}: {x.dtype} input is not supported (float32, int8, int16)")
        stride, padding = op.attr("stride", (1, 1)), op.attr("padding", "SAME")
        if padding not in ("SAME", "VALID") or min(stride) < 1:
            raise GraphError(f"{KIND}: padding {padding} stride {list(stride)}: supported are "
                             "SAME / VALID with strides >= 1")
        if op.attr("activation", "NONE") not in ACTIVATIONS:
            raise GraphError(f"{KIND}: fused activation {op.attr('activation')} is not "
                             f"supported ({', '.join(ACTIVATIONS)})")
        for o, i, k, s in zip(shape[1:3], x.shape[1:3], w.shape[1:3], stride):
            if o < 1 or common.out_size(int(o), k, s, 1, padding) != i:
                raise GraphError(f"{KIND}: output_shape {shape.tolist()} is not what a {padding} "
                                 f"conv with stride {s} maps to input {list(x.shape)}")
        return [(tuple(int(d) for d in shape), x.dtype)]

    @staticmethod
    def check(op, ins, outs):
        _, w, x, b = operands(ins)
        want_w = "float32" if x.dtype == "float32" else "int8"
        if w.dtype != want_w:
            raise GraphError(f"{KIND}: {w.dtype} filter with {x.dtype} input (TFLite Micro "
                             f"takes {want_w})")
        if b is not None and (b.shape != (w.shape[0],) or b.dtype != BIAS_DTYPES[x.dtype]):
            raise GraphError(f"{KIND}: bias must be {w.shape[0]} values of "
                             f"{BIAS_DTYPES[x.dtype]}, got {b.dtype}{list(b.shape)}")
        if x.dtype != "float32":
            common.check_weighted(KIND, [x, w], outs, w.shape[0], axis=0)
        if x.dtype == "int16":
            int16.check_zero_points(KIND, (x, outs[0]))
            shift = common.conv_multipliers(x.quant.s, w.quant.scale, outs[0].quant.s,
                                            w.shape[0])[1]
            if np.max(shift) > 14:
                raise GraphError(f"{KIND}: output scale {outs[0].quant.s:g} too small for the "
                                 "16x8 requantization (multiplier shift above 14)")

    @staticmethod
    def reference(node: Node, args):
        """float32, or int8 activations with a per-channel int8 filter."""
        _, w, x = args[:3]
        bias = args[3] if len(args) > 3 else None
        act = node.attr("activation", "NONE")
        if node.ins[2].dtype == "float32":
            acc = scatter(node, x, w, np.float32)
            if bias is not None:
                acc = acc + bias.astype(np.float32)
            return [common.float_clamp(acc, act)]
        xt, wt, out = node.ins[2], node.ins[1], node.outs[0]
        acc = fp.wrap32(scatter(node, x.astype(np.int64) - xt.quant.zp, w, np.int64))
        if bias is not None:
            acc = fp.wrap32(acc + bias.astype(np.int64))
        mult, shift = common.conv_multipliers(xt.quant.s, wt.quant.scale, out.quant.s,
                                              wt.shape[0])
        lo, hi = common.output_bounds(act, out)
        return [common.requantize(acc, mult, shift, out.quant.zp, lo, hi)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(padding=common.padding_name(o.padding), stride=(o.strideH, o.strideW),
                    activation=common.activation_name(
                        common.options_get(o, "fusedActivationFunction", 0)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.TransposeConvOptionsT()
        o.padding = common.padding_code(attrs.get("padding", "SAME"))
        o.strideH, o.strideW = attrs.get("stride", (1, 1))
        o.fusedActivationFunction = common.activation_code(attrs.get("activation", "NONE"))
        return o

    @staticmethod
    def macs(node):
        cout, kh, kw, cin = node.ins[1].shape
        n, h, w, _ = node.ins[2].shape
        return n * h * w * cin * kh * kw * cout

    @staticmethod
    def lower_c(node: Node):
        """fitml_transpose_conv_f32, or fitml_transpose_conv_s8 with an int32 scratch."""
        x, w, out = node.ins[2], node.ins[1], node.outs[0]
        io = (TensorRef(x.name), TensorRef(out.name))
        b = node.ins[3] if len(node.ins) > 3 else None
        bias = cparams.ref(b) if b is not None else "NULL"
        if x.dtype == "float32":
            lo, hi = cparams.float_bounds(node.attr("activation", "NONE"))
            return CCall("fitml_transpose_conv_f32", "fitml_transpose_conv_f32_params",
                         dict(geom=geom(node), filter=cparams.ref(w), bias=bias, act_min=lo,
                              act_max=hi), io)
        mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, w.shape[0])
        lo, hi = common.output_bounds(node.attr("activation", "NONE"), out)
        return CCall("fitml_transpose_conv_s8", "fitml_transpose_conv_s8_params",
                     dict(geom=geom(node), filter=cparams.ref(w), bias=bias,
                          requant=cparams.requant(mult, shift), input_zp=x.quant.zp,
                          output_zp=out.quant.zp, act_min=lo, act_max=hi),
                     (*io, Scratch()), scratch_bytes=4 * out.size)

