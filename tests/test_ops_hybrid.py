"""Hybrid (float32 activations, int8/int4 weights) CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED:
fitml's reference against LiteRT's BUILTIN_REF kernels, bit for bit.

One-op graphs are built with Graph.build (the op files' infer does not accept every hybrid case
yet) and written with write_tflite; FULLY_CONNECTED's `asymmetricQuantizeInputs` option is set
on the object-API model here, as the op file does not emit it (yet).
"""
from __future__ import annotations

import zlib

import flatbuffers
import numpy as np
import oplab
import pytest
from conftest import shared_model

from toolchain.backends.tflite import build_model
from toolchain.ir import Graph, GraphError, Op
from toolchain.ops import hybrid, registry
from toolchain.ops.registry import Node
from toolchain.ops.windows import output_hw
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


# ---- the on-the-fly quantizers, hand-computed ---------------------------------------------

def test_symmetric_quantize_by_hand():
    half_below = np.nextafter(F32(0.5), F32(0))
    row = np.array([127, -3.5, 2.5, half_below, 0, -127, 1.5, -0.5, half_below, 2.5, -2.5], F32)
    q, scale = hybrid.symmetric_quantize(row[None])
    # max |x| = 127 -> scale 1; NEON body (first 8) rounds trunc(y +- 0.5) in float32, so
    # 0.49999997 -> 1 there but 0 in the std::round tail
    np.testing.assert_array_equal(q[0], [127, -4, 3, 1, 0, -127, 2, -1, 0, 3, -3])
    assert scale[0] == F32(1)
    q, scale = hybrid.symmetric_quantize(np.zeros((2, 5), F32))
    assert not q.any() and np.all(scale == 1)


def test_asymmetric_quantize_by_hand():
    row = np.array([[-1.0, 1.55, 0.5, 0.0]], F32)
    q, scale, zp = hybrid.asymmetric_quantize(row)
    assert scale[0] == F32(np.float64(F32(1.55) + F32(1.0)) / 255.0)
    assert zp[0] == -28  # -128 + 1 / 0.01
    np.testing.assert_array_equal(q[0], [-128, 127, 22, -28])
    q, scale, zp = hybrid.asymmetric_quantize(np.array([[0.0, 2.0, 0.5]], F32))
    assert zp[0] == -128 and list(q[0]) == [-128, 127, -64]  # all >= 0: the range starts at 0
    q, scale, zp = hybrid.asymmetric_quantize(np.zeros((1, 4), F32))
    assert not q.any() and scale[0] == 1 and zp[0] == 0


def test_quantized_values_seen_through_identity_fc():
    """An identity int8 FC with scale 1 outputs LiteRT's quantized input itself."""
    half_below = np.nextafter(F32(0.5), F32(0))
    row = np.array([half_below, -half_below, 2.5, -2.5, 1.5, 0.5, -0.5, 127,
                    half_below, -half_below, 2.5, -2.5, 0.5], F32)
    k = row.size
    w = oplab.const("w", np.eye(k, dtype=np.int8), scale=np.ones(1, F32))
    g = one_op("FULLY_CONNECTED", [oplab.act("x", (1, k), "float32"), w, None],
               dict(activation="NONE"), (1, k))
    theirs = run_litert(model_bytes(g), [row[None]])[0]
    q, _ = hybrid.symmetric_quantize(row[None])
    oplab.assert_exact(theirs, q.astype(F32))
    assert_bit_exact(g, row[None])


def test_is_hybrid():
    x = oplab.act("x", (1, 4, 4, 2), "float32")
    xq = oplab.act("xq", (1, 4, 4, 2), "int8", scale=0.1, zp=0)
    w8 = oplab.const("w", np.ones((3, 1, 1, 2), np.int8), scale=np.ones(1, F32))
    wf = oplab.const("w", np.ones((3, 1, 1, 2), F32))
    for ins, want in (((x, w8), True), ((xq, w8), False), ((x, wf), False)):
        node = Node(Op("CONV_2D", ["x", "w"], ["out"]), ins, ())
        assert hybrid.is_hybrid(node) is want


# ---- CONV_2D --------------------------------------------------------------------------------

CONV_CASES = [  # batch, hw, cin, cout, kernel, stride, padding, dilation, activation
    (1, (9, 8), 3, 8, (3, 3), (1, 1), "SAME", (1, 1), "NONE"),
    (2, (9, 8), 3, 8, (3, 2), (2, 1), "VALID", (1, 1), "RELU"),
    (2, (7, 7), 4, 5, (1, 1), (1, 1), "SAME", (1, 1), "RELU6"),
    (2, (9, 8), 3, 4, (3, 3), (1, 1), "SAME", (2, 2), "RELU_N1_TO_1"),
    (3, (10, 6), 5, 6, (4, 3), (2, 2), "SAME", (1, 1), "NONE"),
]


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}x{c[1]}x{c[2]}-k{c[4]}")
def test_conv_hybrid_bit_exact(case, per_channel):
    n, hw, cin, cout, k, stride, padding, dilation, act = case
    rng = np.random.default_rng(seed((case, per_channel)))
    x = oplab.act("x", (n, *hw, cin), "float32")
    w = weights(rng, (cout, *k, cin), cout if per_channel else 1, 0)
    b = bias(rng, cout)
    attrs = dict(padding=padding, stride=stride, dilation=dilation, activation=act)
    out = oplab.out_like("CONV_2D", [x, w, b], attrs)
    g = one_op("CONV_2D", [x, w, b], attrs, out.shape)
    assert_bit_exact(g, float_input(rng, x.shape, offset=0.7))


@pytest.mark.parametrize("variant", ["grouped", "equal_scales", "int4", "int4_per_channel"])
def test_conv_hybrid_variants(variant):
    rng = np.random.default_rng(7)
    cin_g = 2 if variant == "grouped" else 4
    dtype = "int4" if variant.startswith("int4") else "int8"
    scales = 1 if variant == "int4" else 6
    w = weights(rng, (6, 3, 3, cin_g), scales, 0, dtype)
    if variant == "equal_scales":  # LiteRT then takes the per-tensor (symmetric) kernel
        w = oplab.const("w", w.data, scale=np.full(6, 0.004, F32), axis=0)
    x = oplab.act("x", (2, 6, 5, 4), "float32")
    attrs = dict(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE")
    g = one_op("CONV_2D", [x, w, bias(rng, 6)], attrs, (2, 6, 5, 6))
    assert_bit_exact(g, float_input(rng, x.shape))


def test_conv_hybrid_grouped_per_tensor_rejected():
    rng = np.random.default_rng(8)
    x = oplab.act("x", (1, 4, 4, 4), "float32")
    w = weights(rng, (4, 1, 1, 2), 1, 0)
    g = one_op("CONV_2D", [x, w, bias(rng, 4)], dict(padding="SAME"), (1, 4, 4, 4))
    with pytest.raises(GraphError, match="per-channel"):
        ours_and_litert(g, float_input(rng, x.shape))


# ---- DEPTHWISE_CONV_2D ----------------------------------------------------------------------

@pytest.mark.parametrize("case", [  # batch, channels, multiplier, padding, stride, dilation, act
    (1, 4, 1, "SAME", (1, 1), (1, 1), "RELU"),
    (2, 3, 2, "VALID", (2, 1), (1, 1), "NONE"),
    (2, 3, 2, "SAME", (1, 1), (2, 2), "RELU6"),
    (3, 8, 1, "SAME", (2, 2), (1, 1), "NONE"),
], ids=str)
def test_depthwise_hybrid_bit_exact(case):
    n, c, dm, padding, stride, dilation, act = case
    rng = np.random.default_rng(seed(case))
    x = oplab.act("x", (n, 8, 7, c), "float32")
    w = weights(rng, (1, 3, 3, c * dm), c * dm, 3)
    attrs = dict(padding=padding, stride=stride, dilation=dilation, depth_multiplier=dm,
                 activation=act)
    oh, ow = output_hw("DEPTHWISE_CONV_2D", (8, 7), (3, 3), stride, dilation, padding)
    g = one_op("DEPTHWISE_CONV_2D", [x, w, bias(rng, c * dm)], attrs, (n, oh, ow, c * dm))
    assert_bit_exact(g, float_input(rng, x.shape, offset=-0.4))


def test_depthwise_hybrid_per_tensor_rejected():
    rng = np.random.default_rng(9)
    x = oplab.act("x", (1, 4, 4, 3), "float32")
    w = weights(rng, (1, 3, 3, 3), 1, 3)
    g = one_op("DEPTHWISE_CONV_2D", [x, w, bias(rng, 3)], dict(padding="SAME"), (1, 4, 4, 3))
    with pytest.raises(GraphError, match="per-channel"):
        ours_and_litert(g, float_input(rng, x.shape))


# ---- FULLY_CONNECTED ------------------------------------------------------------------------

@pytest.mark.parametrize("asym", [False, True], ids=["symmetric", "asymmetric"])
@pytest.mark.parametrize("case", [  # input shape, units, per-channel, bias, act, keep, dtype
    ((1, 64), 12, False, True, "NONE", False, "int8"),
    ((3, 37), 8, False, True, "RELU", False, "int8"),
    ((4, 64), 12, True, True, "RELU6", False, "int8"),
    ((4, 50), 7, True, False, "RELU_N1_TO_1", False, "int8"),
    ((2, 3, 20), 5, True, True, "NONE", True, "int8"),
    ((2, 2000), 16, False, True, "NONE", False, "int8"),
    ((3, 40), 8, True, True, "NONE", False, "int4"),
], ids=lambda c: f"{c[0]}-{c[1]}-{'pc' if c[2] else 'pt'}-{c[4]}-{c[6]}")
def test_fc_hybrid_bit_exact(case, asym):
    shape, units, per_channel, has_bias, act, keep, dtype = case
    rng = np.random.default_rng(seed((case, asym)))
    k = shape[-1]
    x = oplab.act("x", shape, "float32")
    w = weights(rng, (units, k), units if per_channel else 1, 0, dtype)
    attrs = dict(activation=act, keep_num_dims=keep, asymmetric_quantize_inputs=asym)
    out_shape = shape[:-1] + (units,) if keep else (int(np.prod(shape)) // k, units)
    g = one_op("FULLY_CONNECTED", [x, w, bias(rng, units) if has_bias else None], attrs,
               out_shape)
    assert_bit_exact(g, float_input(rng, shape, spread=2.0, offset=0.5))


def test_fc_hybrid_tanh_close():
    """Fused TANH runs Eigen's float tanh in LiteRT: equal within 1e-5 of the range, not bits."""
    rng = np.random.default_rng(11)
    x = oplab.act("x", (4, 50), "float32")
    w = weights(rng, (7, 50), 7, 0)
    g = one_op("FULLY_CONNECTED", [x, w, bias(rng, 7)],
               dict(activation="TANH", asymmetric_quantize_inputs=True), (4, 7))
    ours, theirs = ours_and_litert(g, float_input(rng, (4, 50)))
    oplab.assert_close(theirs, ours, atol=1e-5 * float(np.ptp(theirs)))


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"])
@pytest.mark.parametrize("asym", [False, True], ids=["sym", "asym"])
def test_hybrid_zero_and_extreme_rows(kind, asym):
    """All-zero batches (scale 1, q 0), tiny and huge magnitudes, all-positive batches."""
    rng = np.random.default_rng(12)
    if kind == "FULLY_CONNECTED":
        shape, out_shape = (5, 24), (5, 6)
        w = weights(rng, (6, 24), 6 if asym else 1, 0)
        attrs = dict(asymmetric_quantize_inputs=asym)
    else:  # CONV_2D per-channel scales select the asymmetric kernel; depthwise always is
        shape, out_shape = (5, 5, 4, 3), (5, 5, 4, 3)
        dw = kind == "DEPTHWISE_CONV_2D"
        w = weights(rng, (1, 3, 3, 3) if dw else (3, 3, 3, 3), 3 if asym or dw else 1,
                    3 if dw else 0)
        attrs = dict(padding="SAME", stride=(1, 1))
    x = float_input(rng, shape)
    x[0] = 0
    x[1] *= F32(1e-6)
    x[2] *= F32(1e4)
    x[3] = np.abs(x[3])
    x[4] = -np.abs(x[4])
    g = one_op(kind, [oplab.act("x", shape, "float32"), w, bias(rng, out_shape[-1])], attrs,
               out_shape)
    assert_bit_exact(g, x)


# ---- the real model: MLPerf Tiny KWS float32 (five hybrid CONV_2D) ----------------------------

def _kws():
    from toolchain.frontends.tflite import load_tflite

    path = shared_model("mlperf_tiny/kws/kws_ref_model_float32.tflite")
    return path, load_tflite(path)


def _kws_inputs(rng):
    """The int8 KWS sample dequantized with the int8 model's input params, plus noise inputs."""
    sample = np.load(shared_model("mlperf_tiny/kws/kws_sample_input_int8.npy"))
    real = ((sample.astype(np.float32) - 83) * F32(0.5847)).reshape(1, 49, 10, 1)
    return [real] + [float_input(rng, (1, 49, 10, 1), spread=s) for s in (1.0, 10.0, 40.0)]


def run_with_hybrid(graph: Graph, x: np.ndarray) -> list[np.ndarray]:
    """Op by op: hybrid nodes through toolchain.ops.hybrid, the rest through the registry."""
    values = {graph.inputs[0]: x}
    values.update({n: t.data for n, t in graph.tensors.items() if t.is_const})
    for op in graph.ops:
        node = Node.of(graph, op)
        args = [values[n] if n else None for n in op.inputs]
        ref = REFS[op.kind] if hybrid.is_hybrid(node) else registry.get(op.kind).reference
        values.update({t.name: v for t, v in zip(node.outs, ref(node, args))})
    return [values[n] for n in graph.outputs]


def test_kws_float_model_end_to_end(rng):
    path, graph = _kws()
    assert sum(hybrid.is_hybrid(Node.of(graph, op)) for op in graph.ops) == 5
    model = path.read_bytes()
    for x in _kws_inputs(rng):
        ours = run_with_hybrid(graph, x)[0]
        theirs = run_litert(model, [x])[0]
        oplab.assert_close(theirs, ours, atol=1e-5 * float(np.ptp(theirs)), label="KWS output")


def test_kws_hybrid_layers_bit_exact(rng):
    """Each hybrid CONV_2D, fed LiteRT's own input tensor, reproduces LiteRT's output bits."""
    from ai_edge_litert import interpreter as litert

    path, graph = _kws()
    interp = litert.Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    index = {d["name"]: d["index"] for d in interp.get_tensor_details()}
    for x in _kws_inputs(rng):
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        interp.invoke()
        for op in graph.ops:
            node = Node.of(graph, op)
            if not hybrid.is_hybrid(node):
                continue
            args = [t.data if t.is_const else interp.get_tensor(index[t.name])
                    for t in node.ins]
            ours = hybrid.hybrid_conv_reference(node, args)[0]
            oplab.assert_exact(interp.get_tensor(index[op.outputs[0]]), ours, op.name)
