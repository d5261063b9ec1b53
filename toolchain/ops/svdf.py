"""SVDF: a rank-`rank` factored time filter over the last `memory` frames (keyword spotting),
float32 or int8 (int16 weights_time and state) as TFLite Micro runs it.

Inputs: 0 input [batch, input_size], 1 weights_feature [filters, input_size], 2 weights_time
[filters, memory], 3 bias [filters / rank] (optional), 4 activation_state [batch, memory *
filters], a variable tensor. The op is stateful: each call moves the state one frame on, so
`reference` returns the output and then the new state, which the interpreter keeps between
calls (`interpreter.StatefulRun`); the C code keeps it in a static array of model.c, reset by
`<prefix>_reset_state()`. Arithmetic: svdf_math.py.
"""
from __future__ import annotations

from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall, StateRef
from . import common
from . import svdf_math as sm
from .opdef import OpDef
from .registry import Node, register
from .svdf_math import BIAS, FEATURE, KIND, STATE, TIME


def _bias(ins):
    return ins[BIAS] if len(ins) > BIAS else None


@register
class Svdf(OpDef):
    kind = KIND
    tflite_options = "SVDFOptions"
    variable_inputs = (STATE,)      # the writer stores it as a variable tensor
    stateful = True                 # reference returns [output, new state]

    @staticmethod
    def infer(op, ins):
        n = sm.sizes(op, ins)
        return [((n.batch, n.units), ins[0].dtype)]

    @staticmethod
    def check(op, ins, outs):
        n = sm.sizes(op, ins)
        state = common.need(ins[STATE] if len(ins) > STATE else None, "activation_state", KIND)
        if state.shape != (n.batch, n.memory * n.filters) or not state.is_const:
            raise GraphError(f"{KIND}: activation_state {state.name!r} must be a variable "
                             f"[{n.batch}, {n.memory * n.filters}] (batch, memory * filters), "
                             f"got {list(state.shape)}")
        b = _bias(ins)
        if b is not None and b.shape != (n.units,):
            raise GraphError(f"{KIND}: bias must have {n.units} values, got {list(b.shape)}")
        if op.attr("activation", "NONE") not in sm.CLAMPS:
            raise GraphError(f"{KIND}: fused activation {op.attr('activation')} is not "
                             f"supported ({', '.join(sm.CLAMPS)})")
        if ins[0].dtype == "float32":
            bad = [t.name for t in ins if t is not None and t.dtype != "float32"]
            if bad:
                raise GraphError(f"{KIND}: float input with non-float tensors {bad} (hybrid "
                                 "SVDF) is not supported")
            return
        want = {0: "int8", FEATURE: "int8", TIME: "int16", STATE: "int16"}
        got = {i: ins[i].dtype for i in want}
        if got != want or outs[0].dtype != "int8" or b is None or b.dtype != "int32":
            raise GraphError(f"{KIND}: integer SVDF needs int8 input and weights_feature, "
                             "int16 weights_time and state, an int32 bias and int8 output "
                             f"(TFLite Micro's), got {[t.dtype if t else None for t in ins]}")
        for t in (*ins, outs[0]):
            if t is not None and (t.quant is None or t.quant.scale.size != 1):
                raise GraphError(f"{KIND}: tensor {t.name!r} needs a per-tensor scale")

    @staticmethod
    def reference(node: Node, args):
        n = sm.sizes(node.op, node.ins)
        x, wf, wt, state = args[0], args[FEATURE], args[TIME], args[STATE]
        bias = args[BIAS] if len(args) > BIAS else None
        if not node.quantized:
            return list(sm.float_step(x, wf, wt, bias, state, n,
                                      node.attr("activation", "NONE")))
        p = sm.int8_params(node.ins, node.outs[0])
        return list(sm.int8_step(x, wf, wt, bias, state, n, p))

    @staticmethod
    def attrs_from_tflite(o):
        return dict(rank=int(common.options_get(o, "rank", 0)),
                    activation=common.activation_name(
                        common.options_get(o, "fusedActivationFunction", 0)),
                    asymmetric_quantize_inputs=bool(
                        common.options_get(o, "asymmetricQuantizeInputs", False)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.SVDFOptionsT()
        o.rank = int(attrs.get("rank", 0))
        o.fusedActivationFunction = common.activation_code(attrs.get("activation", "NONE"))
        o.asymmetricQuantizeInputs = bool(attrs.get("asymmetric_quantize_inputs", False))
        return o

    @staticmethod
    def macs(node):
        n = sm.sizes(node.op, node.ins)
        return n.batch * n.filters * (n.input_size + n.memory)

    @staticmethod
    def lower_c(node: Node):
        """fitml_svdf_f32 / fitml_svdf_s8 on the state's static array (StateRef)."""
        n = sm.sizes(node.op, node.ins)
        b = _bias(node.ins)
        shape = dict(batches=n.batch, input_size=n.input_size, num_filters=n.filters,
                     memory_size=n.memory, rank=n.rank,
                     weights_feature=cparams.ref(node.ins[FEATURE]),
                     weights_time=cparams.ref(node.ins[TIME]),
                     bias=cparams.ref(b) if b is not None else "NULL",
                     state=StateRef(node.ins[STATE].name))
        io = cparams.io(node)
        if not node.quantized:
            lo, hi = cparams.float_bounds(node.attr("activation", "NONE"))
            return CCall("fitml_svdf_f32", "fitml_svdf_f32_params",
                         dict(shape, act_min=lo, act_max=hi), io)
        p = sm.int8_params(node.ins, node.outs[0])
        return CCall("fitml_svdf_s8", "fitml_svdf_s8_params",
                     dict(shape, input_zp=p.input_zp, state_zp=p.state_zp,
                          output_zp=p.output_zp, feature_multiplier=p.feature[0],
                          feature_shift=p.feature[1], output_multiplier=p.output[0],
                          output_shift=p.output[1]), io)
