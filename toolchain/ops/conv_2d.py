"""CONV_2D: NHWC input, filter [C_out, KH, KW, C_in/groups], optional int32 bias."""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cconv, cparams
from ..lowering.ccall import CCall
from ..ir import GraphError
from ..arith import fixedpoint as fp
from . import common, int16
from .opdef import OpDef
from .registry import FLOAT, INT8, Node, input_filter_dtypes, register
from .windows import conv_patches, node_pads, output_hw


@register
class Conv2D(OpDef):
    kind = "CONV_2D"
    tflite_options = "Conv2DOptions"
    signature = staticmethod(input_filter_dtypes)     # int16, int4, hybrid: @variant kernels
    own_dtypes = FLOAT + INT8

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0], "input", "CONV_2D")
        w = common.need(ins[1], "filter", "CONV_2D")
        n, h, wd, c = x.shape
        cout, kh, kw, cin_g = w.shape
        if cin_g == 0 or c % cin_g:
            raise GraphError(f"CONV_2D: input channels {c} not a multiple of filter's {cin_g}")
        if cout % (c // cin_g):
            raise GraphError(f"CONV_2D: {cout} output channels do not split into "
                             f"{c // cin_g} groups")
        oh, ow = output_hw("CONV_2D", (h, wd), (kh, kw), op.attr("stride", (1, 1)),
                           op.attr("dilation", (1, 1)), op.attr("padding", "SAME"),
                           op.attr("explicit_padding"))
        dtype = "int8" if x.dtype == "int8" else x.dtype
        return [((n, oh, ow, cout), dtype)]

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype == "int16":
            int16.check_weighted("CONV_2D", ins, outs, ins[1].shape[0], axis=0)

    @staticmethod
    def reference(node: Node, args):
        """float32, or int8 activations with int8 / int4 filters."""
        x, w = args[0], args[1]
        bias = args[2] if len(args) > 2 else None
        xt, wt, out = node.ins[0], node.ins[1], node.outs[0]
        cout, kh, kw, cin_g = wt.shape
        groups = xt.shape[3] // cin_g
        act = node.attr("activation", "NONE")
        zp_in = common.qparams(xt)[1] if node.quantized else 0
        dilation = node.attr("dilation", (1, 1))
        patches = conv_patches(x, (kh, kw), node.attr("stride", (1, 1)), dilation,
                               out.shape[1:3], zp_in, node_pads(node, (kh, kw), dilation))
        # patches: [N, OH, OW, KH, KW, C]; padded taps hold zp_in so they contribute zero
        cpg = cout // groups
        acc_dtype = np.int64 if node.quantized else np.float32
        pieces = []
        for g in range(groups):
            # one group takes the whole (contiguous) patches: no float copy of them
            p = patches[..., g * cin_g:(g + 1) * cin_g].astype(acc_dtype, copy=groups > 1)
            wg = w[g * cpg:(g + 1) * cpg].astype(acc_dtype)
            if node.quantized:
                p = p - zp_in
            pieces.append(np.einsum("nhwijc,oijc->nhwo", p, wg))
        acc = pieces[0] if groups == 1 else np.concatenate(pieces, axis=-1)
        if not node.quantized:
            if bias is not None:
                acc += bias.astype(np.float32)
            return [common.float_clamp(acc, act)]
        acc = fp.wrap32(acc)
        if bias is not None:
            acc = fp.wrap32(acc + bias.astype(np.int64))
        s_in = common.qparams(xt)[0]
        s_out, zp_out = common.qparams(out)
        mult, shift = common.conv_multipliers(s_in, wt.quant.scale, s_out, cout)
        lo, hi = common.output_bounds(act, out)
        return [common.requantize(acc, mult, shift, zp_out, lo, hi)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(padding=common.padding_name(o.padding), stride=(o.strideH, o.strideW),
                    dilation=(o.dilationHFactor or 1, o.dilationWFactor or 1),
                    activation=common.activation_name(o.fusedActivationFunction))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.Conv2DOptionsT()
        o.padding = common.padding_code(attrs.get("padding", "SAME"))
        o.strideH, o.strideW = attrs.get("stride", (1, 1))
        o.dilationHFactor, o.dilationWFactor = attrs.get("dilation", (1, 1))
        o.fusedActivationFunction = common.activation_code(attrs.get("activation", "NONE"))
        return o

    @staticmethod
    def macs(node):
        cout, kh, kw, cin_g = node.ins[1].shape
        n, oh, ow, _ = node.outs[0].shape
        return n * oh * ow * cout * kh * kw * cin_g

    @staticmethod
    def lower_c(node: Node):
        """fitml_conv_f32, or the int8 conv call (cconv picks its kernel)."""
        cparams.check_filter(node)
        x, w, out = node.ins[0], node.ins[1], node.outs[0]
        geom = cparams.conv_geom(node, w.shape)
        if not node.quantized:
            return CCall("fitml_conv_f32", "fitml_conv_f32_params",
                         dict(geom=geom, filter=cparams.ref(w), **cparams.float_fields(node)),
                         cparams.io(node))
        mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, w.shape[0])
        return cconv.conv_s8_call(node, np.asarray(w.data), cparams.ref(w), mult, shift)
