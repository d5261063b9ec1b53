"""Data-movement ops and TFLite: RESHAPE, CONCATENATION, SQUEEZE and STRIDED_SLICE options
round-trip through the op files, and each RESHAPE of the shared real models, fed the tensor
TFLite Micro computed, gives TFLM's output."""
from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from conftest import shared_model
from oplab import act, assert_exact
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm
from data_op_cases import build, i32


@pytest.mark.parametrize("kind, attrs", [
    ("RESHAPE", dict(new_shape=(1, -1, 4))),
    ("CONCATENATION", dict(axis=-2, activation="NONE")),
    ("SQUEEZE", dict(squeeze_dims=(0, -1))),
    ("STRIDED_SLICE", dict(begin_mask=5, end_mask=2, ellipsis_mask=0, new_axis_mask=0,
                           shrink_axis_mask=8, offset=True)),
])
def test_attrs_round_trip(kind, attrs):
    opdef = registry.get(kind)
    options = opdef.attrs_to_tflite(attrs)
    assert type(options).__name__ == opdef.tflite_options + "T"
    assert opdef.attrs_from_tflite(options) == attrs


@pytest.mark.parametrize("rel, sample", [
    ("mlperf_tiny/kws/kws_ref_model_int8.tflite", "mlperf_tiny/kws/kws_sample_input_int8.npy"),
    ("mlperf_tiny/vww/vww_96_int8.tflite", None),
    ("tflm/micro_speech_quantized.tflite", None),
])
def test_real_model_reshape(rel, sample):
    """Each RESHAPE of a real model, fed the tensor TFLM computed, gives TFLM's output."""
    blob = shared_model(rel).read_bytes()
    model = schema.ModelT.InitFromPackedBuf(blob, 0)
    sub = model.subgraphs[0]
    rng = np.random.default_rng(7)
    inp = sub.tensors[sub.inputs[0]]
    x = (np.load(shared_model(sample)) if sample else
         rng.integers(-128, 128, list(inp.shape)).astype(np.int8))
    _, interp = run_tflm(blob, [x], preserve_all=True)
    found = 0
    for o in sub.operators:
        code = model.operatorCodes[o.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) != schema.BuiltinOperator.RESHAPE:
            continue
        found += 1
        src, shape_t, dst = sub.tensors[o.inputs[0]], sub.tensors[o.inputs[1]], \
            sub.tensors[o.outputs[0]]
        data = np.frombuffer(bytes(model.buffers[shape_t.buffer].data), "<i4")
        ins = [act("x", src.shape, "int8", 0.1, 0), i32("shape", data)]
        attrs = registry.get("RESHAPE").attrs_from_tflite(o.builtinOptions)
        g = build("RESHAPE", ins, attrs)
        assert g.tensors["out"].shape == tuple(dst.shape)
        got = run_graph(g, [interp.GetTensor(o.inputs[0], 0)["tensor_data"]])[0]
        assert_exact(interp.GetTensor(o.outputs[0], 0)["tensor_data"], got)
    assert found >= 1
