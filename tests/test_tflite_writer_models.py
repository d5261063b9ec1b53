"""The .tflite writer on the shared real models: the op versions it assigns equal what the
TFLite converter wrote, and a load -> write round trip keeps every constant byte, the size
within 2% and the outputs (shipped samples and seeded random inputs, in LiteRT and TFLite
Micro)."""
from __future__ import annotations

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import oplab
from conftest import SHARED_MODELS
from toolchain.backends.tflite import build_model, op_version, write_tflite


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
