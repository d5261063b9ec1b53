"""The .tflite writer: CONV_2D one-op graphs run bit-exact in TFLM, float matches LiteRT,
files are deterministic, aligned and carry their metadata; real models survive a round trip."""
from __future__ import annotations

import json

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import oplab
from conftest import SHARED_MODELS
from toolchain.backends.tflite import (BUFFER_ALIGN, build_model, op_version, pack_int4,
                                       read_metadata, write_tflite)


def conv_graph(rng, x_shape=(1, 9, 8, 3), cout=4, k=(3, 3), dtype="int8", bias="yes",
               w_dtype=None, groups=1, **attrs):
    """A seeded CONV_2D graph: per-channel symmetric weights, int32 bias at s_in * s_w.

    bias: "yes"; "absent" (third input "", written as index -1); "none" (two inputs).
    """
    attrs = dict(dict(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE"),
                 **attrs)
    w_shape = (cout, *k, x_shape[3] // groups)
    if dtype == "float32":
        x = oplab.act("x", x_shape, "float32")
        w = oplab.const("w", rng.standard_normal(w_shape).astype(np.float32))
        b = oplab.const("b", rng.standard_normal(cout).astype(np.float32))
        out = oplab.out_like("CONV_2D", [x, w, b], attrs)
        return oplab.one_op("CONV_2D", [x, w, b], attrs, out)
    s_in = 0.07
    x = oplab.act("x", x_shape, scale=s_in, zp=int(rng.integers(-20, 20)))
    lim = 7 if w_dtype == "int4" else 127
    s_w = rng.uniform(0.002, 0.02, cout).astype(np.float32)
    w = oplab.const("w", rng.integers(-lim, lim + 1, w_shape).astype(np.int8), scale=s_w,
                    axis=0, dtype=w_dtype)
    b = oplab.const("b", rng.integers(-3000, 3000, cout).astype(np.int32),
                    scale=np.float32(s_in) * s_w, axis=0)
    ins = {"yes": [x, w, b], "absent": [x, w, None], "none": [x, w]}[bias]
    out = oplab.out_like("CONV_2D", ins, attrs, scale=0.15, zp=int(rng.integers(-10, 10)))
    return oplab.one_op("CONV_2D", ins, attrs, out)


@pytest.mark.parametrize("activation", ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
@pytest.mark.parametrize("stride", [(1, 1), (2, 2), (2, 1)])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_int8_conv_tflm_exact(padding, stride, activation):
    rng = np.random.default_rng([len(padding), *stride, len(activation)])
    graph = conv_graph(rng, padding=padding, stride=stride, activation=activation)
    for _ in range(2):
        oplab.check_tflm(graph, rng)


CONV_VARIANTS = {
    "bias_absent": dict(bias="absent"), "two_inputs": dict(bias="none"),
    "dilated": dict(dilation=(2, 3), padding="SAME", x_shape=(1, 11, 12, 3)),
    "grouped": dict(x_shape=(1, 7, 7, 6), cout=4, groups=2, activation="RELU"),
    "1x1_batch2": dict(k=(1, 1), x_shape=(2, 5, 5, 8), cout=16),
    "5x5_valid_stride3": dict(k=(5, 5), x_shape=(1, 16, 13, 4), stride=(3, 3),
                              padding="VALID"),
    "int4_weights": dict(w_dtype="int4", x_shape=(1, 6, 6, 5)),
}


@pytest.mark.parametrize("case", sorted(CONV_VARIANTS))
def test_int8_conv_variants_exact(case):
    """TFLM and LiteRT (a bias-less conv is written with a zero bias, which LiteRT needs)."""
    graph = conv_graph(np.random.default_rng(7), **CONV_VARIANTS[case])
    oplab.check_tflm(graph, np.random.default_rng(8), litert=True)


@pytest.mark.parametrize("padding,stride,activation",
                         [("SAME", (1, 1), "NONE"), ("VALID", (2, 2), "RELU"),
                          ("SAME", (2, 1), "RELU6")])
def test_float_conv_matches_litert_and_tflm(padding, stride, activation):
    rng = np.random.default_rng(11)
    graph = conv_graph(rng, dtype="float32", padding=padding, stride=stride,
                       activation=activation)
    oplab.check_tflm(graph, rng, litert=True, atol=1e-5)


def test_assert_exact_lists_every_mismatch():
    want = np.zeros((3, 100), np.int8)
    got = want.copy()
    got[0, 5], got[2, 99] = 1, -4
    with pytest.raises(AssertionError) as err:
        oplab.assert_exact(want, got, "demo")
    text = str(err.value)
    assert "2 of 300" in text and "(0, 5): 0, 1" in text and "(2, 99): 0, -4" in text
    with pytest.raises(AssertionError, match="and 100 more"):
        oplab.assert_exact(want, got + 1, "all")
    oplab.assert_exact(want, want.copy())


def test_lab_detects_a_quantization_mismatch():
    """The lab must be able to fail: TFLM run with another output scale than the reference
    used gives mismatches."""
    rng = np.random.default_rng(3)
    graph = conv_graph(rng)
    inputs = oplab.random_inputs(graph, rng)
    ref, _ = oplab.run_reference_and_tflm(graph, inputs)
    out = graph.tensors["out"]
    skewed = graph.replace(tensors={**graph.tensors, "out": out.replace(
        quant=type(out.quant)(out.quant.s * 1.5, out.quant.zp))})
    _, tflm = oplab.run_reference_and_tflm(skewed, inputs)
    with pytest.raises(AssertionError, match="elements differ"):
        oplab.assert_exact(ref[0], tflm[0])


def test_deterministic_bytes():
    a = write_tflite(conv_graph(np.random.default_rng(5)), {"k": "v"})
    b = write_tflite(conv_graph(np.random.default_rng(5)), {"k": "v"})
    assert a == b
    assert write_tflite(conv_graph(np.random.default_rng(6))) != a


def test_file_structure_and_metadata():
    graph = conv_graph(np.random.default_rng(2), bias="absent")
    data = write_tflite(graph, {"model": "demo", "note": "ünïcode"})
    assert data[4:8] == b"TFL3"
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    assert model.version == 3 and model.description.startswith(b"fitml")
    assert model.buffers[0].data is None  # the empty sentinel
    [entry] = model.metadata
    assert entry.name == b"fitml"
    info = json.loads(bytes(bytearray(model.buffers[entry.buffer].data)))
    assert info["model"] == "demo" and info["note"] == "ünïcode" and info["producer"] == "fitml"
    assert read_metadata(data) == info
    assert read_metadata(write_tflite(graph)) is None
    sub = model.subgraphs[0]
    names = [t.name.decode() for t in sub.tensors]
    assert names == [*graph.tensors, "out_zero_bias"]    # LiteRT's conv needs a bias
    assert [names[i] for i in sub.inputs] == ["x"] and [names[i] for i in sub.outputs] == ["out"]
    [op] = sub.operators
    assert list(op.inputs) == [names.index(n) for n in ("x", "w", "out_zero_bias")]
    code = model.operatorCodes[op.opcodeIndex]
    assert code.builtinCode == schema.BuiltinOperator.CONV_2D == code.deprecatedBuiltinCode
    assert code.version == 3
    assert op.builtinOptionsType == schema.BuiltinOptions.Conv2DOptions
    w = sub.tensors[names.index("w")]
    assert w.type == schema.TensorType.INT8 and w.quantization.quantizedDimension == 0
    np.testing.assert_array_equal(np.float32(w.quantization.scale), graph.tensors["w"].quant.scale)
    assert list(w.quantization.zeroPoint) == [0] * 4
    raw = bytes(bytearray(model.buffers[w.buffer].data))
    assert raw == graph.tensors["w"].data.tobytes()
    for name in ("x", "out"):
        assert sub.tensors[names.index(name)].buffer == 0


def test_constant_buffers_are_aligned():
    data = write_tflite(conv_graph(np.random.default_rng(4), cout=3, k=(1, 1)), {"a": "b"})
    model = schema.Model.GetRootAs(data, 0)
    seen = 0
    for i in range(model.BuffersLength()):
        buf = model.Buffers(i)
        if buf.DataLength():
            start = buf._tab.Vector(buf._tab.Offset(4))
            assert start % BUFFER_ALIGN == 0, f"buffer {i} starts at {start}"
            seen += 1
    assert seen == 3  # weights, bias, metadata


def test_pack_int4_low_nibble_first():
    rng = np.random.default_rng(9)
    for n in (1, 2, 7, 64, 135):
        values = rng.integers(-8, 8, n).astype(np.int8)
        packed = np.frombuffer(pack_int4(values), np.uint8)
        assert packed.size == (n + 1) // 2
        lo = (packed & 0x0F).astype(np.int16)
        hi = (packed >> 4).astype(np.int16)
        unpacked = np.stack([lo, hi], -1).reshape(-1)[:n]
        unpacked = np.where(unpacked > 7, unpacked - 16, unpacked).astype(np.int8)
        oplab.assert_exact(values, unpacked, f"n={n}")
        if n % 2:
            assert packed[-1] >> 4 == 0


INT8_MODELS = ["mlperf_tiny/kws/kws_ref_model_int8.tflite", "mlperf_tiny/vww/vww_96_int8.tflite",
               "mlperf_tiny/ic/pretrainedResnet_quant.tflite", "mlperf_tiny/ad/ad01_int8.tflite",
               "tflm/hello_world_int8.tflite", "tflm/micro_speech_quantized.tflite"]


@pytest.mark.parametrize("rel", INT8_MODELS)
def test_int8_op_versions_match_converter(rel):
    """The version table agrees with what the TFLite converter wrote into real int8 models."""
    from conftest import shared_model

    model = schema.ModelT.InitFromPackedBuf(shared_model(rel).read_bytes(), 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    types = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    sub = model.subgraphs[0]

    def ir_tensor(i):
        t = sub.tensors[i]
        q = t.quantization
        return None if i < 0 else oplab.act(
            f"t{i}", t.shape, types[t.type], *((q.scale[0], q.zeroPoint[0]) if q and
                                              q.scale is not None else (None, None)))

    for op in sub.operators:
        code = model.operatorCodes[op.opcodeIndex]
        kind = names[max(code.builtinCode, code.deprecatedBuiltinCode)]
        ins = [ir_tensor(i) for i in op.inputs]
        assert ins[0].dtype == "int8"
        outs = [ir_tensor(i) for i in op.outputs]
        assert op_version(kind, ins, outs, {}) == code.version, kind


ROUND_TRIP = sorted(str(p.relative_to(SHARED_MODELS)) for p in SHARED_MODELS.rglob("*.tflite")
                    if "lstm" not in p.name)


def test_op_version_rules():
    """Versions TFLite's op_version.cc assigns to signatures the real models do not cover."""
    f32, i8, i16 = (oplab.act("x", (1, 4, 4, 8), d) for d in ("float32", "int8", "int16"))
    w = oplab.const("w", np.ones((2, 1, 1, 8), np.int8), scale=0.1)
    w_pc = oplab.const("w", np.ones((2, 1, 1, 8), np.int8), scale=[0.1, 0.2], axis=0)
    w_f = oplab.const("w", np.ones((2, 1, 1, 8), np.float32))
    w_grp = oplab.const("w", np.ones((2, 1, 1, 4), np.int8), scale=0.1)
    w4 = oplab.const("w", np.ones((2, 1, 1, 8), np.int8), scale=0.1, dtype="int4")
    cases = [("CONV_2D", [f32, w_f], 1), ("CONV_2D", [f32, w], 2), ("CONV_2D", [f32, w_pc], 5),
             ("CONV_2D", [i8, w_pc], 3), ("CONV_2D", [i8, w_grp], 6), ("CONV_2D", [i8, w4], 7),
             ("CONV_2D", [i16, w_pc], 4), ("DEPTHWISE_CONV_2D", [f32, w], 4),
             ("DEPTHWISE_CONV_2D", [f32, w_pc], 6), ("FULLY_CONNECTED", [i8, w], 6),
             ("FULLY_CONNECTED", [i8, w, None], 4), ("FULLY_CONNECTED", [i8, w4, None], 10),
             ("FULLY_CONNECTED", [f32, w, None], 3), ("FULLY_CONNECTED", [f32, w_f], 6),
             ("ADD", [i8, i8], 2), ("ADD", [f32, f32], 1), ("SOFTMAX", [i16], 3),
             ("RESHAPE", [i8], 1), ("LEAKY_RELU", [i8], 1)]
    for kind, ins, want in cases:
        assert op_version(kind, ins, [], {}) == want, (kind, [t and t.dtype for t in ins])
    assert op_version("FULLY_CONNECTED", [i8, w, None], [], {"keep_num_dims": True}) == 5
    assert op_version("DEPTHWISE_CONV_2D", [f32, w_f], [], {"dilation": (2, 2)}) == 2
    assert op_version("QUANTIZE", [f32], [i16], {}) == 2
    assert op_version("QUANTIZE", [f32], [i8], {}) == 1


def _stripped_size(model: bytes) -> int:
    """Size of `model` repacked without what the IR does not carry: signature defs, converter
    metadata, shape signatures, quantization min/max, empty quantization tables, and one empty
    buffer per activation."""
    m = schema.ModelT.InitFromPackedBuf(model, 0)
    m.signatureDefs, m.metadata = None, None
    kept = [schema.BufferT()]
    for t in m.subgraphs[0].tensors:
        t.shapeSignature = None
        if t.quantization is not None:
            t.quantization.min = t.quantization.max = None
            if t.quantization.scale is None or len(t.quantization.scale) == 0:
                t.quantization = None
        data = m.buffers[t.buffer].data
        t.buffer = 0
        if data is not None and len(data):
            t.buffer = len(kept)
            kept.append(schema.BufferT())
            kept[-1].data = data
    m.buffers = kept
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return len(builder.Output())


def _const_bytes(model: bytes) -> int:
    m = schema.ModelT.InitFromPackedBuf(model, 0)
    used = {t.buffer for t in m.subgraphs[0].tensors}
    return sum(len(m.buffers[i].data) for i in used if m.buffers[i].data is not None)


@pytest.mark.parametrize("rel", ROUND_TRIP)
def test_round_trip_real_models(rel):
    """load -> write keeps every constant byte, the size within 2% (of the original stripped
    of what the IR does not carry; never 2% above the original itself) and the outputs, on the
    shipped samples and 25 seeded random inputs, in LiteRT and in TFLite Micro (TFLM cannot run
    the hybrid float KWS model: LiteRT only there)."""
    from conftest import shared_model
    from models import FLOAT_MODELS, INT8_MODELS, sample_inputs
    from toolchain.frontends.tflite import load_tflite
    from toolchain.ops.hybrid import is_hybrid
    from toolchain.ops.registry import Node
    from toolchain.verify.litert import run_litert
    from toolchain.verify.tflm import run_tflm

    path = shared_model(rel)
    original = path.read_bytes()
    graph = load_tflite(path, cleanup=False)   # the file's own graph (no PAD folding)
    written = write_tflite(graph)
    assert write_tflite(load_tflite(written, cleanup=False)) == written  # read/write fixpoint
    assert _const_bytes(written) == _const_bytes(original)
    stripped = _stripped_size(original)
    assert len(written) <= 1.02 * len(original)
    plain = build_model(graph)           # fitml's own "serving_default" signature set aside
    plain.signatureDefs = None
    builder = flatbuffers.Builder(1024)
    builder.Finish(plain.Pack(builder), file_identifier=b"TFL3")
    ours = len(builder.Output())
    assert abs(ours - stripped) <= 0.02 * stripped, \
        f"{ours} bytes written, original {len(original)} ({stripped} stripped)"
    hybrid = any(is_hybrid(Node.of(graph, op)) for op in graph.ops)
    runners = [run_litert] + ([] if hybrid else [run_tflm])
    known = [m for m in INT8_MODELS + FLOAT_MODELS if m.rel == rel]
    cases = sample_inputs(known[0], graph) if known else []
    rng = np.random.default_rng(21)
    cases += [oplab.random_inputs(graph, rng) for _ in range(25)]
    for run in runners:
        for c, inputs in enumerate(cases):
            want, got = run(original, inputs), run(written, inputs)
            assert len(want) == len(got)
            for i, (a, b) in enumerate(zip(want, got)):
                oplab.assert_exact(a, b, f"{run.__name__} case {c} output {i}")


def test_written_models_have_a_serving_signature():
    """Phone apps call LiteRT signature runners: the writer names inputs and outputs."""
    from ai_edge_litert import interpreter as litert

    graph = conv_graph(np.random.default_rng(12), dtype="float32")
    interp = litert.Interpreter(model_content=write_tflite(graph))
    assert interp.get_signature_list() == {
        "serving_default": {"inputs": list(graph.inputs), "outputs": list(graph.outputs)}}
    runner = interp.get_signature_runner("serving_default")
    x = np.random.default_rng(0).standard_normal(graph.tensors["x"].shape).astype(np.float32)
    from toolchain.ops.interpreter import run_graph
    np.testing.assert_allclose(runner(x=x)["out"], run_graph(graph, [x])[0], atol=1e-5)
