"""Post-training quantization: a float Graph -> an int8 Graph in TFLite's int8 scheme.

Weights: per-channel symmetric int8 (scale max|w|/127, zp 0); bias: int32 at s_in * s_w[c];
activations: per-tensor asymmetric int8 from calibrated ranges with TFLite's nudging. Ops whose
int8 kernels demand it get fixed output params (SOFTMAX, LOGISTIC, TANH) or share params between
input and output (pooling, data movement, CONCATENATION), so TFLite Micro and fitml's reference
run the result bit-exact. The float graph first goes through the CLEANUP passes (constant
folding, BatchNorm folding, RELU/RELU6 fused into their producer), so the calibration and the
int8 graph see the same ops.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, UsageError
from ..ir import Graph, Op, QuantParams, Tensor
from ..ops import common
from ..ops.quantize import quantize_float
from ..passes import CLEANUP, run_pipeline
from ..passes.edit import prune
from . import mixed, observers
from .calibration import CalibrationStats, collect
from .fixedpoint import round_half_away

WEIGHT_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}
# int8 kernels that read raw codes: the output (and PADV2's fill) shares the input's params
SAME_PARAMS = {"AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE", "SQUEEZE", "PAD", "PADV2",
               "TRANSPOSE", "STRIDED_SLICE", "RELU6"}
FIXED_OUTPUT = {"SOFTMAX": (1.0 / 256, -128), "LOGISTIC": (1.0 / 256, -128),
                "TANH": (1.0 / 128, 0)}
OWN_RANGE = {"ADD", "SUB", "MUL", "MEAN", "RELU", "LEAKY_RELU", "HARD_SWISH", "CONCATENATION",
             *WEIGHT_AXIS}
IO_MODES = ("int8", "float")
BIAS_MAX = float(1 << 30)    # |int32 bias| cap, leaving headroom for the accumulated products
WEIGHT_QMAX = {"int8": 127, "int4": 7}   # symmetric weight range per precision


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


def _is_weight(op: Op, k: int) -> bool:
    return op.kind in WEIGHT_AXIS and k in (1, 2)


class _Groups:
    """Union-find over activations that must share (scale, zp); a group may be fixed."""

    def __init__(self, names):
        self.parent = {n: n for n in names}
        self.fixed: dict[str, tuple[float, int]] = {}

    def find(self, n: str) -> str:
        while self.parent[n] != n:
            self.parent[n] = n = self.parent[self.parent[n]]
        return n

    def tie(self, a: str, b: str) -> bool:
        """Join the groups of a and b; False (nothing joined) if both are fixed differently."""
        ra, rb = self.find(a), self.find(b)
        fa, fb = self.fixed.get(ra), self.fixed.get(rb)
        if fa and fb and fa != fb:
            return False
        self.parent[rb] = ra
        if fb:
            self.fixed[ra] = fb
        return True


def _tie_groups(graph: Graph, names: list[str]):
    """Groups of tensors sharing params, and the (op, input k) edges requantized instead.

    A CONCATENATION mixing fixed-param inputs (SOFTMAX, LOGISTIC, TANH outputs) with other
    params requantizes its fixed inputs into one range covering every input.
    """
    groups = _Groups(names)
    for op in graph.ops:
        if op.kind in FIXED_OUTPUT:
            groups.fixed[op.outputs[0]] = FIXED_OUTPUT[op.kind]
    requant = set()
    for i, op in enumerate(graph.ops):
        if op.kind == "CONCATENATION":
            fixed = [groups.fixed.get(groups.find(n)) for n in op.inputs]
            mixed = len(set(fixed)) > 1
            tied = [k for k, f in enumerate(fixed) if not (mixed and f)]
            requant |= {(i, k) for k in range(len(op.inputs)) if k not in tied}
        else:
            tied = [0, 2] if op.kind == "PADV2" else [0] if op.kind in SAME_PARAMS else []
        for k in tied:
            if k < len(op.inputs) and op.inputs[k] and not groups.tie(op.outputs[0],
                                                                       op.inputs[k]):
                requant.add((i, k))
    return groups, requant


def activation_params(graph: Graph, stats: CalibrationStats, observe, ranges_out=None):
    """({tensor: (scale, zp)} for every int8 activation, {(op, input k) needing requant});
    `ranges_out` (a dict), if given, receives each tensor's group range [lo, hi]."""
    names = [n for n, t in graph.tensors.items() if t.dtype == "float32" and not t.is_const]
    names += sorted({n for op in graph.ops for k, n in enumerate(op.inputs) if n
                     and graph.tensors[n].is_const and graph.tensors[n].dtype == "float32"
                     and not _is_weight(op, k)})
    groups, requant = _tie_groups(graph, names)
    observed = {}
    for n in names:
        t = graph.tensors[n]
        if t.is_const:
            observed[n] = float(np.min(t.data, initial=0.0)), float(np.max(t.data, initial=0.0))
        elif n in stats.tensors:
            observed[n] = observe(stats[n])
        else:
            raise UsageError(f"quantize: calibration statistics have no tensor {n!r} "
                             "(gathered on another graph?)")
    ranges: dict[str, list[float]] = {}
    for n, (lo, hi) in [*observed.items(), *((graph.ops[i].outputs[0], observed[
            graph.ops[i].inputs[k]]) for i, k in requant)]:
        r = ranges.setdefault(groups.find(n), [lo, hi])
        r[0], r[1] = min(r[0], lo), max(r[1], hi)
    params = {}
    for _ in range(8):                           # widen ADD/SUB outputs TFLM would reject
        group_params = {g: groups.fixed.get(g) or observers.choose_params(*r)
                        for g, r in ranges.items()}
        params = {n: group_params[groups.find(n)] for n in names}
        if not _widen_addsub(graph, params, groups, ranges):
            if ranges_out is not None:
                ranges_out.update({n: tuple(ranges[groups.find(n)]) for n in names})
            return params, requant
    raise ModelError("quantize: could not find ADD/SUB output scales TFLite Micro accepts")


def _widen_addsub(graph, params, groups, ranges) -> bool:
    """ADD/SUB need 2*max(s1, s2) / (2^20 * s_out) < 1: stretch too-narrow output ranges."""
    changed = False
    for op in graph.ops:
        if op.kind not in ("ADD", "SUB"):
            continue
        need = 2.0 * max(params[op.inputs[0]][0], params[op.inputs[1]][0]) / (1 << 20)
        g = groups.find(op.outputs[0])
        if params[op.outputs[0]][0] <= need * 1.001 and g not in groups.fixed:
            factor = need * 1.01 / params[op.outputs[0]][0]
            ranges[g] = [ranges[g][0] * factor, ranges[g][1] * factor]
            changed = True
    return changed


def quantize_weights(t: Tensor, name: str, axis: int | None, bias: Tensor | None = None,
                     s_in: float = 1.0, dtype: str = "int8") -> Tensor:
    """Symmetric int8 in [-127, 127] at scale max|w|/127 per channel along `axis` (or tensor);
    dtype "int4": [-7, 7] at max|w|/7 (TFLite's symmetric int4), stored unpacked.

    As TFLite's converter does, a channel whose bias would overflow at s_in * s_w (dead
    channels of folded BatchNorm have |w| ~ 1e-30) gets the larger scale |b| / (s_in * 2^30).
    """
    qmax = WEIGHT_QMAX[dtype]
    w = common.float_weights(t, t.data).astype(np.float64)
    shape = [1] * w.ndim
    if axis is None:
        peak = np.array([np.abs(w).max(initial=0.0)])
    else:
        peak = np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)).max(axis=1)
        shape[axis] = -1
    scale = peak / qmax
    if dtype == "int4":                      # 15 levels: clipping outliers pays off
        rows = w.reshape(1, -1) if axis is None else np.moveaxis(w, axis, 0).reshape(
            w.shape[axis], -1)
        scale = scale * mse_clip(rows, scale, qmax)
    if bias is not None:
        b = np.abs(common.float_weights(bias, bias.data).astype(np.float64))
        need = (b if axis is not None else b.max(initial=0.0, keepdims=True)) / (s_in * BIAS_MAX)
        scale = np.maximum(scale, need)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = round_half_away(w / scale.astype(np.float64).reshape(shape))
    return Tensor(name, t.shape, dtype, np.clip(q, -qmax, qmax).astype(np.int8),
                  QuantParams(scale, np.zeros(scale.size, np.int64), axis))


def mse_clip(rows: np.ndarray, scale: np.ndarray, qmax: int, steps: int = 21) -> np.ndarray:
    """Per row, the factor in [0.5, 1] of `scale` whose symmetric quantization of the row has
    the least squared error (the max-based scale wastes int4's few levels on outliers)."""
    factors = np.linspace(0.5, 1.0, steps)
    s = np.maximum(scale, 1e-30)[None, :, None] * factors[:, None, None]
    err = ((np.clip(round_half_away(rows[None] / s), -qmax, qmax) * s - rows[None]) ** 2)
    return factors[np.argmin(err.sum(axis=2), axis=0)]


def quantize_bias(t: Tensor, name: str, s_in: float, s_w: np.ndarray,
                  dtype: str = "int32") -> Tensor:
    """int32 bias (int64 for 16x8 ops) at scale s_in * s_w[c], zp 0, rounded half away."""
    scale = (np.float32(s_in) * np.asarray(s_w, np.float32)).astype(np.float32)
    q = round_half_away(np.asarray(t.data, np.float64) / scale.astype(np.float64))
    axis = 0 if scale.size > 1 else None
    lim = np.iinfo(dtype)
    return Tensor(name, t.shape, dtype, np.clip(q, max(lim.min, -2.0**62), min(lim.max, 2.0**62))
                  .astype(dtype), QuantParams(scale, np.zeros(scale.size, np.int64), axis))


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
             else collect(graph, calibration, progress))
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
            for k in (1, 2):                     # shared weights: one copy per op
                if k < len(inputs) and inputs[k] and len(uses[inputs[k]]) > 1:
                    inputs[k] = _unique(f"{inputs[k]}_{i}", tensors)
            b = graph.tensors[op.inputs[2]] if len(inputs) > 2 and inputs[2] else None
            s_in = tensors[inputs[0]].quant.s
            wtype = precision.get(op.outputs[0], "int8")
            if wtype == "int4" and mode == "int16":
                raise UsageError(f"quantize: layer {op.outputs[0]!r} cannot take int4 weights "
                                 "with int16 activations (TFLite Micro has no such kernel)")
            axis = WEIGHT_AXIS[op.kind] if per_channel else None
            if wtype == "int4" and op.kind == "FULLY_CONNECTED":
                axis = None                      # TFLM's int4 FC kernel is per-tensor only
            w = tensors[inputs[1]] = quantize_weights(
                graph.tensors[op.inputs[1]], inputs[1], axis, b, s_in, wtype)
            if b is not None:
                tensors[inputs[2]] = quantize_bias(b, inputs[2], s_in, w.quant.scale,
                                                   "int64" if mode == "int16" else "int32")
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


def _check_precision(graph: Graph, precision: dict[str, str]) -> dict[str, str]:
    """The per-layer weight precision map, checked: known layers, known precisions."""
    layers = {op.outputs[0] for op in graph.ops if op.kind in WEIGHT_AXIS}
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
