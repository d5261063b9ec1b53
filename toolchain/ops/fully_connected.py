"""FULLY_CONNECTED: input read as [batches, K], filter [N, K], optional bias [N].

Output is [batches, N], or the input shape with its last dim replaced by N (`keep_num_dims`).
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cdsp, cparams, cvariant
from ..lowering.ccall import CCall
from ..ir import GraphError
from ..arith import fixedpoint as fp
from . import common, int16
from .fc_multipliers import multipliers, per_tensor_multiplier  # noqa: F401 (re-exported)
from .opdef import OpDef
from .registry import FLOAT, INT8, Node, dtype_pairs, input_filter_dtypes, register

KIND = "FULLY_CONNECTED"
WEIGHT_FORMATS = {v: k for k, v in vars(schema.FullyConnectedOptionsWeightsFormat).items()
                  if not k.startswith("_")}


@register
class FullyConnected(OpDef):
    kind = KIND
    tflite_options = "FullyConnectedOptions"
    signature = staticmethod(input_filter_dtypes)     # int16, int4, hybrid: @variant kernels
    own_dtypes = FLOAT + INT8

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0], "input", KIND)
        w = common.need(ins[1], "filter", KIND)
        if len(w.shape) != 2 or w.shape[1] == 0:
            raise GraphError(f"{KIND}: filter must be [N, K], got {list(w.shape)}")
        if x.dtype not in ("float32", "int8", "int16"):
            raise GraphError(f"{KIND}: input dtype {x.dtype} not supported (float32, int8, "
                             "int16)")
        if (x.dtype, w.dtype) not in dtype_pairs(KIND):
            raise GraphError(f"{KIND}: {w.dtype} filter with {x.dtype} input is not supported")
        n, k = w.shape
        if x.size % k:
            raise GraphError(f"{KIND}: input {list(x.shape)} is not a whole number of rows "
                             f"of K={k}")
        if op.attr("keep_num_dims", False):
            if not x.shape or x.shape[-1] != k:
                raise GraphError(f"{KIND}: keep_num_dims needs input last dim {k}, got "
                                 f"{list(x.shape)}")
            return [(x.shape[:-1] + (n,), x.dtype)]
        return [((x.size // k, n), x.dtype)]

    @staticmethod
    def check(op, ins, outs):
        x, w, out = ins[0], ins[1], outs[0]
        b = ins[2] if len(ins) > 2 else None
        if x.dtype == "int16":
            return int16.check_weighted(KIND, ins, outs, w.shape[0], axis=0)
        if not common.check_weighted(KIND, ins, outs, w.shape[0], axis=0):
            return
        q = w.quant
        if q.scale.size > 1:
            if w.dtype == "int4":
                raise GraphError(f"{KIND}: TFLM supports int4 filters only per-tensor")
        elif b is not None:
            # TFLM's GetQuantizedConvolutionMultipler: the bias scale must be ~ s_in * s_w
            product = float(np.float32(x.quant.s) * np.float32(q.s))
            s_b = b.quant.s if b.quant is not None else 0.0
            if abs(product - s_b) / out.quant.s > 0.02:
                raise GraphError(f"{KIND}: bias scale {s_b:g} differs from input*filter scale "
                                 f"{product:g} by more than 2% of the output scale")

    @staticmethod
    def reference(node: Node, args):
        """float32, or int8 activations with int8 / int4 filters."""
        x, w = args[0], args[1]
        bias = args[2] if len(args) > 2 else None
        xt, wt, out = node.ins[0], node.ins[1], node.outs[0]
        n, k = wt.shape
        act = node.attr("activation", "NONE")
        if not node.quantized:
            acc = x.reshape(-1, k).astype(np.float32) @ common.float_weights(wt, w).T
            if bias is not None:
                acc = acc + bias.astype(np.float32)
            return [common.float_clamp(acc, act).reshape(out.shape)]
        s_in, zp_in = common.qparams(xt)
        s_out, zp_out = common.qparams(out)
        wq = np.asarray(w).astype(np.int64)
        mult, shift = multipliers(s_in, wt, s_out)
        if wt.quant.scale.size == 1:
            wq = wq - wt.quant.zp        # per-tensor kernel adds weights_offset = -zp_w
        acc = fp.wrap32((x.reshape(-1, k).astype(np.int64) - zp_in) @ wq.T)
        if bias is not None:
            acc = fp.wrap32(acc + bias.astype(np.int64))
        lo, hi = common.output_bounds(act, out)
        return [common.requantize(acc, mult, shift, zp_out, lo, hi).reshape(out.shape)]

    @staticmethod
    def attrs_from_tflite(o):
        fmt = common.options_get(o, "weightsFormat", 0)
        if fmt != schema.FullyConnectedOptionsWeightsFormat.DEFAULT:
            raise GraphError(f"{KIND}: weights format {WEIGHT_FORMATS.get(fmt, fmt)} is not "
                             "supported (only DEFAULT)")
        return dict(activation=common.activation_name(
                        common.options_get(o, "fusedActivationFunction", 0)),
                    keep_num_dims=bool(common.options_get(o, "keepNumDims", False)),
                    asymmetric_quantize_inputs=bool(
                        common.options_get(o, "asymmetricQuantizeInputs", False)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.FullyConnectedOptionsT()
        o.fusedActivationFunction = common.activation_code(attrs.get("activation", "NONE"))
        o.weightsFormat = schema.FullyConnectedOptionsWeightsFormat.DEFAULT
        o.keepNumDims = bool(attrs.get("keep_num_dims", False))
        o.asymmetricQuantizeInputs = bool(attrs.get("asymmetric_quantize_inputs", False))
        return o

    @staticmethod
    def macs(node):
        n, k = node.ins[1].shape
        return node.ins[0].size // k * n * k

    @staticmethod
    def lower_c(node: Node):
        """fitml_fully_connected_f32 or _s8 (DSP layout where it fits)."""
        cparams.check_filter(node)
        x, w, out = node.ins[0], node.ins[1], node.outs[0]
        n, k = w.shape
        shape = dict(batches=x.size // k, input_size=k, output_size=n, filter=cparams.ref(w))
        if not node.quantized:
            return CCall("fitml_fully_connected_f32", "fitml_fully_connected_f32_params",
                         dict(shape, **cparams.float_fields(node)), cparams.io(node))
        if w.quant.scale.size == 1 and w.quant.zp != 0:
            raise cparams.unsupported(node, "filter zero point must be 0 (as TFLM)")
        mult, shift = multipliers(x.quant.s, w, out.quant.s)
        sums = np.asarray(w.data).sum(axis=1, dtype=np.int64)   # no int64 copy of the filter
        layout = cdsp.fc_dsp_layout(node, np.asarray(w.data), mult, shift)
        if not isinstance(layout, str):    # the DSP kernel reads only the layout: no int8 copy
            shape["filter"] = "NULL"
        elif cvariant.fast_kernels():      # DSP (and MVE, same source): the reordered int8
            shape["filter"] = cdsp.fc_int8_filter(w.data)
        return CCall("fitml_fully_connected_s8", "fitml_fully_connected_s8_params",
                     dict(shape, **cparams.int8_fields(node, sums, mult, shift),
                          filter_dsp=layout), cparams.io(node))
