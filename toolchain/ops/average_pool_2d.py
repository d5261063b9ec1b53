"""AVERAGE_POOL_2D (and the shared Pool2D base of MAX_POOL_2D): NHWC, window clipped to the image.

int8 pools work on raw codes (TFLM requires equal input and output quantization), so zero points
never enter the arithmetic.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cparams
from ..lowering.ccall import CCall
from ..ir import GraphError
from . import common, int16
from .opdef import OpDef
from .registry import Node, register
from .windows import conv_patches, node_pads, output_hw


class PoolBase(OpDef):
    """Shape inference, checks, windows and TFLite mapping shared by the 2-D pools (not
    registered); L2_POOL_2D takes this part only."""

    tflite_options = "Pool2DOptions"

    @classmethod
    def infer(cls, op, ins):
        x = common.need(ins[0], "input", cls.kind)
        if len(x.shape) != 4:
            raise GraphError(f"{cls.kind}: input must be NHWC, got {list(x.shape)}")
        if x.dtype not in ("float32", "int8", "int16"):
            raise GraphError(f"{cls.kind}: input dtype {x.dtype} not supported (float32, int8, "
                             "int16)")
        n, h, w, c = x.shape
        # EXPLICIT padding only for MAX_POOL_2D: padded taps never win a max, while an
        # average counts the taps it divides by (passes/fold_pads.py)
        explicit = op.attr("explicit_padding") if cls.kind == "MAX_POOL_2D" else None
        oh, ow = output_hw(cls.kind, (h, w), op.attr("filter", (1, 1)),
                           op.attr("stride", (1, 1)), (1, 1), op.attr("padding", "SAME"),
                           explicit)
        return [((n, oh, ow, c), x.dtype)]

    @classmethod
    def check(cls, op, ins, outs):
        x, out = ins[0], outs[0]
        if x.dtype == "float32":
            return
        if x.dtype == "int16":
            int16.check_zero_points(cls.kind, (x, out))
        (s_in, zp_in), (s_out, zp_out) = common.qparams(x), common.qparams(out)
        # TFLM PoolingPrepare: |s_in - s_out| <= 1e-6 and equal zero points
        if abs(s_in - s_out) > 1e-6 or zp_in != zp_out:
            raise GraphError(f"{cls.kind}: input quantization (s={s_in:g}, zp={zp_in}) must "
                             f"equal the output's (s={s_out:g}, zp={zp_out})")

    @staticmethod
    def windows(node: Node, x: np.ndarray, fill) -> np.ndarray:
        """[N, OH, OW, FH, FW, C] windows; taps outside the image hold `fill`."""
        kernel = node.attr("filter", (1, 1))
        return conv_patches(x, kernel, node.attr("stride", (1, 1)), (1, 1),
                            node.outs[0].shape[1:3], fill, node_pads(node, kernel))

    @staticmethod
    def bounds(node: Node) -> tuple[int, int]:
        """Clamp of a quantized pool's fused activation (int8 or int16 range)."""
        if int16.is_int16(node):
            return int16.bounds(node)
        return common.output_bounds(node.attr("activation", "NONE"), node.outs[0])

    @staticmethod
    def attrs_from_tflite(o):
        return dict(padding=common.padding_name(o.padding), stride=(o.strideH, o.strideW),
                    filter=(o.filterHeight, o.filterWidth),
                    activation=common.activation_name(o.fusedActivationFunction))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.Pool2DOptionsT()
        o.padding = common.padding_code(attrs.get("padding", "SAME"))
        o.strideH, o.strideW = attrs.get("stride", (1, 1))
        o.filterHeight, o.filterWidth = attrs.get("filter", (1, 1))
        o.fusedActivationFunction = common.activation_code(attrs.get("activation", "NONE"))
        return o



class Pool2D(PoolBase):
    """PoolBase with the C lowering of AVERAGE_POOL_2D and MAX_POOL_2D (not registered)."""

    @staticmethod
    def lower_c(node: Node):
        """fitml_avgpool_* / fitml_maxpool_* (int8 on raw codes, or float32)."""
        x, out = node.ins[0], node.outs[0]
        (fh, fw), (sh, sw) = node.attr("filter", (1, 1)), node.attr("stride", (1, 1))
        pad_h, pad_w = node_pads(node, (fh, fw))
        geom = dict(input=cparams.dims(x.shape), output=cparams.dims(out.shape), filter_h=fh,
                    filter_w=fw, stride_h=sh, stride_w=sw, pad_h=pad_h, pad_w=pad_w)
        act = node.attr("activation", "NONE")
        name = "avgpool" if node.op.kind == "AVERAGE_POOL_2D" else "maxpool"
        if node.quantized:
            lo, hi = Pool2D.bounds(node)
            suffix = "s16" if x.dtype == "int16" else "s8"
            return CCall(f"fitml_{name}_{suffix}", "fitml_pool_s8_params",
                         dict(geom=geom, act_min=lo, act_max=hi), cparams.io(node))
        lo, hi = cparams.float_bounds(act)
        return CCall(f"fitml_{name}_f32", "fitml_pool_f32_params",
                     dict(geom=geom, act_min=lo, act_max=hi), cparams.io(node))


@register
class AveragePool2D(Pool2D):
    kind = "AVERAGE_POOL_2D"

    @staticmethod
    def reference(node: Node, args):
        x, out = args[0], node.outs[0]
        act = node.attr("activation", "NONE")
        _, h, w, _ = x.shape
        # number of taps inside the image per output position, [1, OH, OW, 1]
        count = Pool2D.windows(node, np.ones((1, h, w, 1), np.int64), 0).sum(axis=(3, 4))
        if not node.quantized:
            total = Pool2D.windows(node, x.astype(np.float32), 0).sum(axis=(3, 4))
            return [common.float_clamp(total / count.astype(np.float32), act)]
        acc = Pool2D.windows(node, x.astype(np.int64), 0).sum(axis=(3, 4))
        # (acc +- n/2) / n with C truncation: round half away from zero on raw codes
        avg = np.sign(acc) * ((np.abs(acc) + count // 2) // count)
        lo, hi = Pool2D.bounds(node)
        return [np.clip(avg, lo, hi).astype(out.dtype)]
