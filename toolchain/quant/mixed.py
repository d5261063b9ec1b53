"""Activation precision per layer: TFLite's 16x8 scheme (int16 activations, int8 weights, int64
bias) where asked, int8 elsewhere, with QUANTIZE ops converting at the boundaries.

A layer named int16 stores its output activation in int16. The op producing it runs 16x8 (an
int8 input is converted up first), ops that only move or clip values (pools, reshape, RELU...)
carry int16 on, and every consumer with an int16 form reads it in int16 (running 16x8 and
converting its own output down to int8 if that is not chosen too): a tensor rounded to int16
and then re-rounded to int8 before use would gain nothing. Ops with no int16 form
(CONCATENATION...) stay int8 behind a QUANTIZE. int16 tensors are symmetric: zero point 0,
scale max(|lo|, |hi|) / 32767 as TFLite's converter picks them, except the outputs TFLM's int16
kernels fix (SOFTMAX, LOGISTIC, TANH: 1/32768) and the tensors sharing their params.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..ir import Graph, Op, QuantParams, Tensor
from .weights import OPERANDS, is_param

# ops with a 16x8 form in fitml's reference, its C runtime and TFLite Micro
INT16_KINDS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL",
                         "BATCH_MATMUL", "MAX_POOL_2D", "AVERAGE_POOL_2D", "MEAN", "RELU",
                         "RELU6", "RESHAPE", "SQUEEZE", "PAD", "TRANSPOSE", "STRIDED_SLICE",
                         "LOGISTIC", "TANH", "SOFTMAX", "TRANSPOSE_CONV"})
# their output keeps the input's precision (data movement, clipping)
FOLLOW = frozenset({"MAX_POOL_2D", "AVERAGE_POOL_2D", "RELU", "RELU6", "RESHAPE", "SQUEEZE",
                    "PAD", "TRANSPOSE", "STRIDED_SLICE"})
WEIGHTED = frozenset(OPERANDS)
# int16 output params TFLM's Prepare demands (logistic_common.cc, tanh.cc, softmax_common.cc)
FIXED_INT16 = {"LOGISTIC": (1.0 / 32768, 0), "TANH": (1.0 / 32768, 0),
               "SOFTMAX": (1.0 / 32768, 0)}
SHARED = FOLLOW - {"RELU"}       # output shares the input's params (RELU requantizes)
MODES = ("int8", "int16")
INT16_MAX = 32767
MIN_SCALE = 1e-9


@dataclass(frozen=True)
class Precision:
    """The plan: each op's arithmetic and the dtype each activation is stored in."""
    mode: tuple[str, ...]          # per op of the (cleaned-up) float graph
    dtype: dict[str, str]          # activation tensor -> "int8" | "int16"

    @property
    def int16_ops(self) -> set[int]:
        return {i for i, m in enumerate(self.mode) if m == "int16"}


def activation_inputs(op: Op) -> list[int]:
    """Indices of the op's activation operands (filters, biases and states excluded)."""
    return [k for k, n in enumerate(op.inputs) if n and not is_param(op.kind, k)]


def layers(graph: Graph) -> list[str]:
    """Names that may be asked int16: outputs of ops with an int16 form."""
    return [op.outputs[0] for op in graph.ops if op.kind in INT16_KINDS]


def chosen(graph: Graph, activations) -> set[str]:
    """The layer outputs asked int16 by `activations` ("int8", "int16" or {layer: mode})."""
    if activations in (None, "int8"):
        return set()
    if activations == "int16":
        return set(layers(graph))
    if isinstance(activations, str) or not hasattr(activations, "items"):
        raise UsageError(f"activations must be int8, int16 or a {{layer: mode}} map, not "
                         f"{activations!r}")
    valid = layers(graph)
    for name, mode in activations.items():
        if mode not in MODES:
            raise UsageError(f"activation precision {mode!r} for {name!r}; supported: "
                             f"{', '.join(MODES)}")
        if name not in valid:
            raise UsageError(f"int16 activations: no layer {name!r} with an int16 form; valid "
                             f"layers: {', '.join(valid) or '(none)'}")
    return {n for n, m in activations.items() if m == "int16"}


def plan(graph: Graph, activations, io: str = "int8") -> Precision:
    """Per-op arithmetic and per-tensor storage for `activations` (see the module doc).
    Model inputs/outputs keep io's type: with io "int8" they stay int8; with "float" an input
    read only by 16x8 ops, or an output made in int16, is quantized to / from int16 directly."""
    asked = chosen(graph, activations)
    wide, mode = set(), []
    for op in graph.ops:
        ins = [op.inputs[k] for k in activation_inputs(op)
               if not graph.tensors[op.inputs[k]].is_const]
        out = op.outputs[0]
        m = "int8"
        if op.kind in INT16_KINDS:
            if out in asked or (op.kind in FOLLOW and ins and ins[0] in wide):
                m = "int16"
                wide.add(out)
            elif any(n in wide for n in ins):
                m = "int16"                          # reads int16; its output goes back to int8
        mode.append(m)
    uses = graph.consumers()
    if io == "float":
        wide |= {n for n in graph.inputs if uses.get(n)
                 and all(mode[i] == "int16" for i in uses[n])}
    else:
        wide -= set(graph.outputs)
    dtype = {n: "int16" if n in wide else "int8" for n, t in graph.tensors.items()
             if t.dtype == "float32" and not t.is_const}
    return Precision(tuple(mode), dtype)


def int16_params(lo: float, hi: float) -> tuple[float, int]:
    """Symmetric int16 (scale, 0) covering [lo, hi] (TFLite: max(|min|, |max|) / 32767)."""
    peak = np.float32(max(abs(min(float(lo), 0.0)), abs(max(float(hi), 0.0))))
    scale = np.float32(peak / np.float32(INT16_MAX))
    return float(max(scale, np.float32(MIN_SCALE))), 0


def fix_outputs(graph: Graph, prec: Precision, params16: dict) -> None:
    """16x8 LOGISTIC / TANH / SOFTMAX outputs take TFLM's fixed params, and so do the tensors
    tied to them through SHARED ops (params flow forward, in op order)."""
    for i in sorted(prec.int16_ops):
        op = graph.ops[i]
        if op.kind in FIXED_INT16:
            params16[op.outputs[0]] = FIXED_INT16[op.kind]
        elif op.kind in SHARED and op.inputs[0] in params16:
            params16[op.outputs[0]] = params16[op.inputs[0]]


def widen_addsub(graph: Graph, prec: Precision, params16: dict) -> None:
    """int16 ADD/SUB need 2*max(s1, s2) / (2^15 * s_out) < 1 (TFLM's left shift is 15)."""
    for i in prec.int16_ops:
        op = graph.ops[i]
        if op.kind in ("ADD", "SUB"):
            need = 2.0 * max(params16[n][0] for n in op.inputs[:2]) / (1 << 15)
            if params16[op.outputs[0]][0] <= need * 1.001:
                params16[op.outputs[0]] = (float(np.float32(need * 1.01)), 0)


class Converter:
    """QUANTIZE ops (or constant copies) giving a tensor in the other precision, made once
    per (tensor, dtype) and shared by every reader."""

    def __init__(self, tensors: dict, params8: dict, params16: dict, quantize_const):
        self.tensors, self.params = tensors, {"int8": params8, "int16": params16}
        self.quantize_const = quantize_const      # (float tensor, name, (s, zp), dtype) -> T
        self.made: dict[tuple[str, str], str] = {}

    def name_for(self, name: str, dtype: str) -> str:
        base, k, out = f"{name}_{dtype}", 1, f"{name}_{dtype}"
        while out in self.tensors:
            out, k = f"{base}_{k}", k + 1
        return out

    def get(self, name: str, dtype: str, float_t: Tensor, ops: list) -> str:
        """`name` (stored in another precision) as a tensor of `dtype`; ops get the QUANTIZE."""
        src = self.tensors[name]
        if src.dtype == dtype or name not in self.params[dtype]:   # or not an activation
            return name
        if (name, dtype) in self.made:
            return self.made[name, dtype]
        out = self.made[name, dtype] = self.name_for(name, dtype)
        s, zp = self.params[dtype][name]
        if float_t.is_const:
            self.tensors[out] = self.quantize_const(float_t, out, (s, zp), dtype)
            return out
        self.tensors[out] = src.replace(name=out, dtype=dtype, data=None,
                                        quant=QuantParams(s, zp))
        ops.append(Op("QUANTIZE", [name], [out], {"dtype": dtype}, f"to_{dtype}_{name}"))
        return out

    def wide_output(self, name: str) -> str:
        """A 16x8 op whose output is stored int8 writes this int16 tensor (then QUANTIZE)."""
        out = self.made[name, "int16"] = self.name_for(name, "int16")
        s, zp = self.params["int16"][name]
        self.tensors[out] = self.tensors[name].replace(name=out, dtype="int16", data=None,
                                                       quant=QuantParams(s, zp))
        return out
