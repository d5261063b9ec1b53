"""L2_POOL_2D: sqrt(mean(x^2)) over each window of an NHWC image; float32 only (TFLM
l2_pool_2d.cc, reference_ops::L2Pool). Padding, strides, filter and fused activation read and
write like AVERAGE_POOL_2D's (the shared PoolBase).

Like the average pool, only the taps inside the image count: their squares summed in float32
in window order (row by row), divided by their count, sqrtf, then clamped by the fused
activation. Each step rounds once, so the reference is bit-exact.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .average_pool_2d import PoolBase
from .registry import Node, register
from .windows import node_pads

DTYPES = ("float32",)

@register
class L2Pool2D(PoolBase):
    kind = "L2_POOL_2D"

    @classmethod
    def infer(cls, op, ins):
        x = common.need(ins[0] if ins else None, "input", cls.kind)
        if x.dtype != "float32":
            raise GraphError(f"L2_POOL_2D: input dtype {x.dtype} not supported (float32 only, "
                             "as in TFLite Micro)")
        return super().infer(op, ins)

    @staticmethod
    def reference(node: Node, args):
        x = np.asarray(args[0], np.float32)
        _, h, w, _ = x.shape
        count = PoolBase.windows(node, np.ones((1, h, w, 1), np.int64), 0).sum(axis=(3, 4))
        taps = PoolBase.windows(node, x, 0)                  # [N, OH, OW, FH, FW, C]
        acc = np.zeros(taps.shape[:3] + taps.shape[5:], np.float32)
        for ky in range(taps.shape[3]):
            for kx in range(taps.shape[4]):
                v = taps[:, :, :, ky, kx, :]
                acc = (acc + v * v).astype(np.float32)    # padded taps add +0.0: no change
        with np.errstate(all="ignore"):
            mean = (acc / count.astype(np.float32)).astype(np.float32)
            out = np.sqrt(mean).astype(np.float32)
        return [common.float_clamp(out, node.attr("activation", "NONE"))]

    @staticmethod
    def lower_c(node: Node):
        """fitml_l2pool_f32 over the pool geometry."""
        x, out = node.ins[0], node.outs[0]
        if x.dtype != "float32":
            raise cparams.unsupported(node)
        (fh, fw), (sh, sw) = node.attr("filter", (1, 1)), node.attr("stride", (1, 1))
        pad_h, pad_w = node_pads(node, (fh, fw))
        geom = dict(input=cparams.dims(x.shape), output=cparams.dims(out.shape), filter_h=fh,
                    filter_w=fw, stride_h=sh, stride_w=sw, pad_h=pad_h, pad_w=pad_w)
        lo, hi = cparams.float_bounds(node.attr("activation", "NONE"))
        return CCall("fitml_l2pool_f32", "fitml_pool_f32_params",
                     dict(geom=geom, act_min=lo, act_max=hi), cparams.io(node))

    @staticmethod
    def macs(node):
        fh, fw = node.attr("filter", (1, 1))
        return node.outs[0].size * fh * fw
