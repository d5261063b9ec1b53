"""QDQ models: QuantizeLinear/DequantizeLinear pairs around float ops import as int8 ops.

Before conversion, every activation that feeds a QuantizeLinear takes that node's (scale,
zero point): the op producing it is emitted int8 with those parameters. A DequantizeLinear of
an int8 activation is then that same tensor, and one of a constant (weights, bias) folds to a
constant that keeps its integer data and quantization. A QuantizeLinear of a float value (a
graph input) becomes QUANTIZE; int8 graph outputs get a DEQUANTIZE (ONNX outputs are float).
uint8 codes become int8 ones (q - 128 with zero point - 128: the same real values).
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..ir import QuantParams
from .onnx_build import Builder
from .onnx_node import OnnxNode, converter

INT_TYPES = {"int8": np.int8, "uint8": np.int8, "int32": np.int32}


def to_int8(q: np.ndarray, zp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, zero points) as int8 / int32, uint8 shifted by -128."""
    q, zp = np.asarray(q), np.asarray(zp)
    if q.dtype == np.uint8:
        return (q.astype(np.int16) - 128).astype(np.int8), zp.astype(np.int64) - 128
    if q.dtype.name not in INT_TYPES:
        raise ModelError(f"QDQ: {q.dtype} quantized values are not supported (int8, uint8, "
                         "int32)")
    return q, zp.astype(np.int64)


def params(scale, zp, axis: int, rank: int, where: str) -> QuantParams:
    scale = np.asarray(scale, np.float32).reshape(-1)
    zp = np.zeros(1, np.int64) if zp is None else np.asarray(zp).reshape(-1)
    if scale.size == 1:
        return QuantParams(scale, zp.astype(np.int64), None)
    if not -rank <= axis < rank:
        raise ModelError(f"{where}: quantization axis {axis} out of range for rank {rank}")
    return QuantParams(scale, zp.astype(np.int64), axis % rank)


def activation_params(scale, zp) -> QuantParams:
    """Per-tensor parameters of a QuantizeLinear (no zero point: uint8, zero point 0)."""
    if scale is None or np.asarray(scale).size != 1:
        raise ModelError("QDQ: activations need one constant scale (per-tensor quantization)")
    zp = np.zeros(1, np.uint8) if zp is None else np.asarray(zp)
    return QuantParams(np.float32(scale).reshape(-1),
                       to_int8(np.zeros(1, zp.dtype), zp)[1].reshape(-1), None)


def prescan(b: Builder, graph, consts: dict) -> None:
    """Give every activation quantized by a QuantizeLinear that node's parameters."""
    from onnx import numpy_helper  # lazy: onnx is optional (fitml[onnx])

    known = dict(consts)
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            known[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    inputs = {i.name for i in graph.input}
    for node in graph.node:
        x = node.input[0] if node.input else ""
        if node.op_type != "QuantizeLinear" or x in known or x in inputs:
            continue
        zp = known.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        try:
            b.quant[x] = activation_params(known.get(node.input[1]), zp)
        except ModelError as exc:
            raise ModelError(f"QDQ node {node.name!r}: {exc}") from None


def record_dequantized(b: Builder, n: OnnxNode) -> None:
    """A folded DequantizeLinear of a constant remembers the constant's integer form."""
    q = b.const(n.input(0))
    zp = b.const(n.input(2)) if n.input(2) else np.zeros(1, q.dtype)
    scale = b.const(n.input(1)).astype(np.float32)
    codes, zps = to_int8(q, zp)
    axis = int(n.attr("axis", 1)) if q.ndim > 1 else 0
    b.qconsts[n.outputs[0]] = (codes, params(scale, zps, axis, max(q.ndim, 1),
                                             f"QDQ node {n.name!r}"))


@converter("QuantizeLinear")
def quantize_linear(b: Builder, n: OnnxNode):
    x = n.input(0)
    v = b.value(x)
    t = b.tensors[v.tensor]
    try:
        q = activation_params(b.const(n.input(1)), b.const(n.input(2)) if n.input(2) else None)
    except ModelError as exc:
        raise b.error(str(exc)) from None
    if t.dtype == "int8" and q.same_as(t.quant):
        b.values[n.outputs[0]] = v
        return
    b.emit("QUANTIZE", [v.tensor], dict(dtype="int8"), out=n.outputs[0], perm=v.perm, quant=q)


@converter("DequantizeLinear")
def dequantize_linear(b: Builder, n: OnnxNode):
    v = b.value(n.input(0))
    if b.tensors[v.tensor].dtype != "int8":
        raise b.error("DequantizeLinear of a float activation")
    b.values[n.outputs[0]] = v   # the int8 tensor itself; float consumers run int8


def requantize(b: Builder, tensor: str, quant: QuantParams | None) -> str:
    """`tensor` requantized to `quant` when it is int8 with other parameters."""
    t = b.tensors[tensor]
    if quant is None or t.dtype != "int8" or quant.same_as(t.quant):
        return tensor
    return b.emit("QUANTIZE", [tensor], dict(dtype="int8"), base=f"{tensor}_requant",
                  quant=quant)
