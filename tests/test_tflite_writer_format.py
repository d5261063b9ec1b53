"""The .tflite writer's files: deterministic bytes, the flatbuffer structure (tensors, operator
codes and versions, quantization, raw weights), fitml's metadata, aligned constant buffers,
int4 packed low nibble first, a LiteRT serving signature; TFLite's op-version rules."""
from __future__ import annotations

import json

import numpy as np
from ai_edge_litert import schema_py_generated as schema

import oplab
from toolchain.backends.tflite import (BUFFER_ALIGN, op_version, pack_int4,
                                       read_metadata, write_tflite)
from writer_cases import conv_graph


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
