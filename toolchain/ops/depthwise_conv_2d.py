"""DEPTHWISE_CONV_2D: NHWC input, filter [1, KH, KW, C_in*dm], optional bias [C_in*dm].

Output channel oc = ic*dm + m reads input channel ic with filter channel oc (TFLite layout).
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cconv, cparams
from ..lowering.ccall import CArray, CCall, Scratch
from ..ir import GraphError
from ..arith import fixedpoint as fp
from . import common, int16
from .opdef import OpDef
from .registry import FLOAT, INT8, Node, dtype_pairs, input_filter_dtypes, register
from .windows import conv_patches, node_pads, output_hw

KIND = "DEPTHWISE_CONV_2D"


def _multiplier(op, x, w) -> int:
    """Depth multiplier: the `depth_multiplier` attr (default 1) must match the shapes.

    TFLM loops over the option's value, not the shapes, so a mismatch would be garbage there.
    """
    c, cout = x.shape[3], w.shape[3]
    if c == 0 or cout % c:
        raise GraphError(f"{KIND}: filter channels {cout} not a multiple of input's {c}")
    stated = op.attr("depth_multiplier", 1)
    if stated != cout // c:
        raise GraphError(f"{KIND}: depth_multiplier {stated} but filter has {cout} channels "
                         f"for {c} input channels")
    return cout // c


@register
class DepthwiseConv2D(OpDef):
    kind = KIND
    tflite_options = "DepthwiseConv2DOptions"
    signature = staticmethod(input_filter_dtypes)     # int16, int4, hybrid: @variant kernels
    own_dtypes = FLOAT + INT8

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0], "input", KIND)
        w = common.need(ins[1], "filter", KIND)
        if len(x.shape) != 4 or len(w.shape) != 4 or w.shape[0] != 1:
            raise GraphError(f"{KIND}: need NHWC input and [1, KH, KW, C] filter, got "
                             f"{list(x.shape)} and {list(w.shape)}")
        if x.dtype not in ("float32", "int8", "int16"):
            raise GraphError(f"{KIND}: input dtype {x.dtype} not supported (float32, int8, "
                             "int16)")
        if (x.dtype, w.dtype) not in dtype_pairs(KIND):
            raise GraphError(f"{KIND}: {w.dtype} filter with {x.dtype} input is not supported")
        _multiplier(op, x, w)
        n, h, wd, _ = x.shape
        _, kh, kw, cout = w.shape
        oh, ow = output_hw(KIND, (h, wd), (kh, kw), op.attr("stride", (1, 1)),
                           op.attr("dilation", (1, 1)), op.attr("padding", "SAME"),
                           op.attr("explicit_padding"))
        return [((n, oh, ow, cout), x.dtype)]

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype == "int16":
            return int16.check_weighted(KIND, ins, outs, ins[1].shape[3], axis=3)
        common.check_weighted(KIND, ins, outs, ins[1].shape[3], axis=3)

    @staticmethod
    def reference(node: Node, args):
        """float32, or int8 activations with int8 / int4 filters."""
        x, w = args[0], args[1]
        bias = args[2] if len(args) > 2 else None
        xt, wt, out = node.ins[0], node.ins[1], node.outs[0]
        _, kh, kw, cout = wt.shape
        c = xt.shape[3]
        act = node.attr("activation", "NONE")
        zp_in = common.qparams(xt)[1] if node.quantized else 0
        dilation = node.attr("dilation", (1, 1))
        patches = conv_patches(x, (kh, kw), node.attr("stride", (1, 1)), dilation,
                               out.shape[1:3], zp_in, node_pads(node, (kh, kw), dilation))
        # patches: [N, OH, OW, KH, KW, C]; padded taps hold zp_in so they contribute zero
        acc_dtype = np.int64 if node.quantized else np.float32
        # float: the patches as they are (x - 0.0 == x, a copy changes no value)
        p = patches.astype(acc_dtype) - acc_dtype(zp_in) if node.quantized else \
            patches.astype(acc_dtype, copy=False)
        w = np.asarray(w) if node.quantized else common.float_weights(wt, w)
        wr = w.astype(acc_dtype).reshape(kh, kw, c, cout // c)
        acc = np.einsum("nhwijc,ijcm->nhwcm", p, wr).reshape(out.shape)
        if not node.quantized:
            if bias is not None:
                acc += bias.astype(np.float32)
            return [common.float_clamp(acc, act)]
        acc = fp.wrap32(acc)
        if bias is not None:
            acc = fp.wrap32(acc + bias.astype(np.int64))
        mult, shift = common.conv_multipliers(xt.quant.s, wt.quant.scale, out.quant.s, cout)
        lo, hi = common.output_bounds(act, out)
        return [common.requantize(acc, mult, shift, out.quant.zp, lo, hi)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(padding=common.padding_name(o.padding), stride=(o.strideH, o.strideW),
                    dilation=(o.dilationHFactor or 1, o.dilationWFactor or 1),
                    depth_multiplier=o.depthMultiplier,
                    activation=common.activation_name(o.fusedActivationFunction))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.DepthwiseConv2DOptionsT()
        o.padding = common.padding_code(attrs.get("padding", "SAME"))
        o.strideH, o.strideW = attrs.get("stride", (1, 1))
        o.dilationHFactor, o.dilationWFactor = attrs.get("dilation", (1, 1))
        o.depthMultiplier = attrs.get("depth_multiplier", 1)
        o.fusedActivationFunction = common.activation_code(attrs.get("activation", "NONE"))
        return o

    @staticmethod
    def macs(node):
        _, kh, kw, cout = node.ins[1].shape
        n, oh, ow, _ = node.outs[0].shape
        return n * oh * ow * cout * kh * kw

    @staticmethod
    def lower_c(node: Node):
        """fitml_depthwise_conv_f32 or _s8 (the plain int8 filter: the DSP kernel builds its
        taps and records at run time; one input channel: a CONV_2D call)."""
        cparams.check_filter(node)
        x, w, out = node.ins[0], node.ins[1], node.outs[0]
        cout = w.shape[3]
        fields = dict(geom=cparams.conv_geom(node, w.shape), filter=cparams.ref(w),
                      depth_multiplier=cout // x.shape[3])
        if not node.quantized:
            return CCall("fitml_depthwise_conv_f32", "fitml_depthwise_conv_f32_params",
                         dict(fields, **cparams.float_fields(node)), cparams.io(node))
        rows = np.asarray(w.data, np.int64).reshape(-1, cout).T      # [C_out, KH*KW]
        mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, cout)
        if x.shape[3] == 1:     # one input channel: a CONV_2D with C_out = depth multiplier
            filt = np.ascontiguousarray(np.asarray(w.data).transpose(3, 1, 2, 0))
            return cconv.conv_s8_call(node, filt, CArray(filt, "int8_t", role="weights"),
                                        mult, shift)
        params = dict(fields, input_zp=common.qparams(x)[1],
                      **cparams.int8_fields(node, rows.sum(axis=1), mult, shift),
                      filter_dsp="NULL")
        geom, dm = fields["geom"], fields["depth_multiplier"]
        return CCall("fitml_depthwise_conv_s8", "fitml_depthwise_conv_s8_params", params,
                     cparams.io(node, Scratch()),
                     scratch_bytes=cconv.depthwise_scratch_bytes(geom, dm))
