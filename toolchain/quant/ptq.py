"""Post-training quantization: a float Graph -> an int8 Graph in TFLite's int8 scheme.

Weights: per-channel symmetric int8 (scale max|w|/127, zp 0); bias: int32 at s_in * s_w[c];
activations: per-tensor asymmetric int8 from calibrated ranges with TFLite's nudging. Ops whose
int8 kernels demand it get fixed output params (SOFTMAX, LOGISTIC, TANH) or share params between
input and output (pooling, data movement, CONCATENATION), so TFLite Micro and fitml's reference
run the result bit-exact. The float graph first goes through the CLEANUP passes (constant
folding, BatchNorm folding, RELU/RELU6 fused into their producer), so the calibration and the
int8 graph see the same ops.

Weight and bias quantization is in weights.py (TRANSPOSE_CONV's operands sit elsewhere:
weights.OPERANDS), activation parameters in act_params.py, SVDF's integer scheme in svdf.py.
"""
from __future__ import annotations

from ..errors import ModelError, UsageError
from ..ir import Graph, Op, QuantParams, Tensor
from ..ops.quantize import quantize_float
from ..passes import CLEANUP, run_pipeline
from ..passes.edit import prune
from . import mixed, observers, svdf
from .act_params import FIXED_OUTPUT, SAME_PARAMS, activation_params
from .calibration import CalibrationStats, collect
from .weights import (INT4_KINDS, OPERANDS, WEIGHT_AXIS, WEIGHT_QMAX, quantize_bias,
                      quantize_weights)

OWN_RANGE = {"ADD", "SUB", "MUL", "BATCH_MATMUL", "MEAN", "CUMSUM", "RELU", "LEAKY_RELU",
             "HARD_SWISH", "ELU", "ADD_N", "CONCATENATION", "SVDF", *WEIGHT_AXIS}
IO_MODES = ("int8", "float")


def _check_quantizable(graph: Graph) -> None:
    for name in graph.inputs:
        if graph.tensors[name].dtype != "float32":
            raise UsageError(f"quantize: input {name!r} is {graph.tensors[name].dtype}; "
                             "post-training quantization takes a float32 model")
    known = OWN_RANGE | SAME_PARAMS | set(FIXED_OUTPUT)
    for i, op in enumerate(graph.ops):
        if op.kind not in known:
            raise ModelError(f"quantize: op {i} ({op.kind}, output {op.outputs[0]!r}) has no "
                             f"int8 form in fitml's quantizer; supported: "
                             f"{', '.join(sorted(known))}")
        if op.kind in WEIGHT_AXIS and not graph.tensors[op.inputs[1]].is_const:
            raise ModelError(f"quantize: op {i} ({op.kind}): filter {op.inputs[1]!r} is not "
                             "a constant")


def _unique(name: str, taken) -> str:
    out, k = name, 1
    while out in taken:
        out, k = f"{name}_{k}", k + 1
    return out


def quantize(graph: Graph, calibration, observer: str = "minmax", io: str = "int8",
             per_channel: bool = True, progress: bool | None = None,
             precision: dict[str, str] | None = None, activations="int8") -> Graph:
    """The int8 version of float `graph`, calibrated on `calibration`.

    calibration: a directory or .npy/.npz file, an iterable of input lists, or the
    `CalibrationStats` from `calibration.collect` (to try several observers on one pass).
    io="float" keeps float32 graph inputs/outputs behind QUANTIZE / DEQUANTIZE ops.
    precision: {output tensor of a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (as named
    after the CLEANUP passes): "int8" | "int4"} weight precision per layer (default int8).
    int4 weights are per-channel except FULLY_CONNECTED's, per-tensor as TFLite Micro needs.
    activations: "int8", "int16" (TFLite's 16x8 scheme wherever an op has it) or
    {layer output: "int16"} (quant/mixed.py: int16 activations, int64 biases, QUANTIZE ops
    between int8 and int16 parts; the model's inputs and outputs keep `io`'s type).
    """
    if io not in IO_MODES:
        raise UsageError(f"quantize: io must be one of {', '.join(IO_MODES)}, not {io!r}")
    observe = observers.get(observer)
    graph = run_pipeline(graph.validate(), CLEANUP)
    _check_quantizable(graph)
    precision = _check_precision(graph, precision or {})
    prec = mixed.plan(graph, activations, io)
    stats = (calibration if isinstance(calibration, CalibrationStats)
             else collect(graph, calibration, progress, histograms=observer != "minmax"))
    ranges: dict = {}
    params, requant = activation_params(graph, stats, observe, ranges)
    params16 = {n: mixed.int16_params(*r) for n, r in ranges.items()}
    mixed.fix_outputs(graph, prec, params16)
    mixed.widen_addsub(graph, prec, params16)
    tensors = dict(graph.tensors)
    for n, (s, zp) in params.items():
        t, dtype = graph.tensors[n], prec.dtype.get(n, "int8")
        s, zp = params16[n] if dtype == "int16" else (s, zp)
        data = None if not t.is_const else quantize_float(t.data, s, zp, dtype)
        tensors[n] = Tensor(n, t.shape, dtype, data, QuantParams(s, zp))
    conv = mixed.Converter(tensors, params, params16, lambda t, n, p, d: Tensor(
        n, t.shape, d, quantize_float(t.data, *p, d), QuantParams(*p)))
    ops, uses = [], graph.consumers()
    for i, op in enumerate(graph.ops):
        inputs, mode = list(op.inputs), prec.mode[i]
        for k in mixed.activation_inputs(op):
            inputs[k] = conv.get(inputs[k], mode, graph.tensors[inputs[k]], ops)
        if op.kind in WEIGHT_AXIS:
            _quantize_weighted(graph, op, i, inputs, tensors, uses, mode, per_channel,
                               precision.get(op.outputs[0], "int8"))
        elif op.kind == "SVDF":
            op = svdf.quantize(graph, op, inputs, tensors, stats, observe)
        for k in sorted(k for j, k in requant if j == i):
            src = tensors[inputs[k]]
            inputs[k] = _unique(f"{src.name}_requant", tensors)
            s, zp = params[op.outputs[0]]
            tensors[inputs[k]] = src.replace(name=inputs[k], data=None, quant=QuantParams(s, zp))
            ops.append(Op("QUANTIZE", [src.name], [inputs[k]], {"dtype": "int8"},
                          f"requantize_{i}_{k}"))
        out = op.outputs[0]
        if mode == "int16" and tensors[out].dtype != "int16":     # 16x8 op, int8 output
            wide = conv.wide_output(out)
            ops.append(op.replace(inputs=tuple(inputs), outputs=(wide,) + op.outputs[1:]))
            ops.append(Op("QUANTIZE", [wide], [out], {"dtype": "int8"}, f"to_int8_{out}"))
            continue
        ops.append(op.replace(inputs=tuple(inputs)))
    q = prune(graph.replace(tensors=tensors, ops=ops))     # drops float originals of copies
    return (_float_io(q) if io == "float" else q).validate()


def _quantize_weighted(graph: Graph, op: Op, i: int, inputs: list, tensors: dict, uses,
                       mode: str, per_channel: bool, wtype: str) -> None:
    """The op's filter (per-channel symmetric int8, or int4) and bias (int32 at s_in * s_w,
    int64 for 16x8) into `tensors`; a filter or bias shared by several ops is copied per op."""
    x, kw, kb = OPERANDS[op.kind]
    for k in (kw, kb):
        if k < len(inputs) and inputs[k] and len(uses[inputs[k]]) > 1:
            inputs[k] = _unique(f"{inputs[k]}_{i}", tensors)
    b = graph.tensors[op.inputs[kb]] if len(inputs) > kb and inputs[kb] else None
    s_in = tensors[inputs[x]].quant.s
    if wtype == "int4" and mode == "int16":
        raise UsageError(f"quantize: layer {op.outputs[0]!r} cannot take int4 weights "
                         "with int16 activations (TFLite Micro has no such kernel)")
    axis = WEIGHT_AXIS[op.kind] if per_channel else None
    if wtype == "int4" and op.kind == "FULLY_CONNECTED":
        axis = None                      # TFLM's int4 FC kernel is per-tensor only
    w = tensors[inputs[kw]] = quantize_weights(
        graph.tensors[op.inputs[kw]], inputs[kw], axis, b, s_in, wtype)
    if b is not None:
        tensors[inputs[kb]] = quantize_bias(b, inputs[kb], s_in, w.quant.scale,
                                            "int64" if mode == "int16" else "int32")


def _check_precision(graph: Graph, precision: dict[str, str]) -> dict[str, str]:
    """The per-layer weight precision map, checked: known layers, known precisions."""
    layers = {op.outputs[0] for op in graph.ops if op.kind in INT4_KINDS}
    for name, wtype in precision.items():
        if wtype not in WEIGHT_QMAX:
            raise UsageError(f"quantize: precision {wtype!r} for {name!r}; supported: "
                             f"{', '.join(WEIGHT_QMAX)}")
        if name not in layers:
            raise UsageError(f"quantize: precision given for {name!r}, which is not the output "
                             "of a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED")
    return dict(precision)


def _float_io(graph: Graph) -> Graph:
    """Float32 graph inputs/outputs: QUANTIZE after each input, DEQUANTIZE before each output."""
    tensors, rename = dict(graph.tensors), {}
    head, tail = [], []
    for n in dict.fromkeys(graph.inputs + graph.outputs):
        dtype = tensors[n].dtype
        inner = rename[n] = _unique(f"{n}_{dtype}", tensors)
        tensors[inner] = tensors[n].replace(name=inner)
        tensors[n] = tensors[n].replace(dtype="float32", quant=None)
        if n in graph.inputs:
            head.append(Op("QUANTIZE", [n], [inner], {"dtype": dtype}, f"quantize_{n}"))
        if n in graph.outputs:
            tail.append(Op("DEQUANTIZE", [inner], [n], {}, f"dequantize_{n}"))
    ops = [op.replace(inputs=tuple(rename.get(x, x) for x in op.inputs),
                      outputs=tuple(rename.get(x, x) for x in op.outputs)) for op in graph.ops]
    return graph.replace(tensors=tensors, ops=head + ops + tail)
