"""Hybrid (float32 activations, int8/int4 weights) one-op graphs and their check against LiteRT's
BUILTIN_REF kernels (tests/test_ops_hybrid_*.py). Graphs are built with Graph.build (the op
files' infer does not accept every hybrid case yet) and written with write_tflite;
FULLY_CONNECTED's `asymmetricQuantizeInputs` option is set on the object-API model here, as the
op file does not emit it (yet)."""
from __future__ import annotations

import zlib

import flatbuffers
import numpy as np
import oplab

from toolchain.backends.tflite import build_model
from toolchain.ir import Graph, Op
from toolchain.ops import hybrid
from toolchain.ops.registry import Node
from toolchain.verify.litert import run_litert


F32 = np.float32
REFS = {"CONV_2D": hybrid.hybrid_conv_reference,
        "DEPTHWISE_CONV_2D": hybrid.hybrid_depthwise_reference,
        "FULLY_CONNECTED": hybrid.hybrid_fc_reference}


def one_op(kind, ins, attrs, out_shape) -> Graph:
    out = oplab.act("out", out_shape, "float32")
    op = Op(kind, [t.name if t is not None else "" for t in ins], ["out"], attrs)
    return Graph.build([t for t in ins if t is not None] + [out], [op], [ins[0].name], ["out"])


def model_bytes(graph: Graph) -> bytes:
    model = build_model(graph)
    for op, t in zip(graph.ops, model.subgraphs[0].operators):
        if op.attr("asymmetric_quantize_inputs"):
            t.builtinOptions.asymmetricQuantizeInputs = True
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def ours_and_litert(graph: Graph, x: np.ndarray):
    node = Node.of(graph, graph.ops[0])
    args = [x] + [t.data if t is not None else None for t in node.ins[1:]]
    ours = REFS[node.op.kind](node, args)[0]
    theirs = run_litert(model_bytes(graph), [x])[0]
    return ours, np.asarray(theirs).reshape(ours.shape)


def assert_bit_exact(graph: Graph, x: np.ndarray):
    ours, theirs = ours_and_litert(graph, x)
    assert ours.dtype == np.float32
    oplab.assert_exact(theirs, ours, "hybrid reference vs LiteRT")


def weights(rng, shape, scales: int, axis, dtype="int8"):
    lim = 8 if dtype == "int4" else 128
    s = rng.uniform(0.002, 0.02, scales).astype(F32)
    data = rng.integers(-lim + 1, lim, shape).astype(np.int8)
    return oplab.const("w", data, scale=s, axis=axis if scales > 1 else None, dtype=dtype)


def bias(rng, n):
    return oplab.const("b", rng.standard_normal(n).astype(F32))


def seed(case) -> int:
    """A per-case seed that does not depend on Python's hash randomization."""
    return zlib.crc32(repr(case).encode())


def float_input(rng, shape, spread=3.0, offset=0.0):
    return (rng.standard_normal(shape) * spread + offset).astype(F32)
