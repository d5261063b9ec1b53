"""The ONNX frontend on QDQ models (onnxruntime's static quantization of a small torch net):
they import as int8 graphs equal to TFLite Micro; asymmetric conv weights are refused."""
from __future__ import annotations


import numpy as np
import pytest

import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.errors import ModelError
from toolchain.frontends.onnx import load_onnx
from toolchain.ops.interpreter import run_graph
from onnx_cases import kinds, ort_run, to_nhwc

torch = pytest.importorskip("torch")
nn = torch.nn


class SmallQdqNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        y = nn.functional.max_pool2d(torch.relu(self.c(x)), 2)
        y = y + torch.relu(self.dw(y))
        return self.fc(torch.flatten(y, 1))


def qdq_model(tmp_path, activations="QInt8", weights="QInt8", per_channel=True) -> bytes:
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    torch.manual_seed(7)
    float_path, q_path = tmp_path / "float.onnx", tmp_path / "qdq.onnx"
    torch.onnx.export(SmallQdqNet().eval(), (torch.randn(1, 3, 8, 8),), str(float_path),
                      dynamo=False, input_names=["x"])
    rng = np.random.default_rng(7)
    batches = iter([{"x": rng.standard_normal((1, 3, 8, 8)).astype(np.float32)}
                    for _ in range(8)])

    class Reader(CalibrationDataReader):
        def get_next(self):
            return next(batches, None)

    quantize_static(str(float_path), str(q_path), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=getattr(QuantType, activations),
                    weight_type=getattr(QuantType, weights), per_channel=per_channel)
    return q_path.read_bytes()


@pytest.mark.parametrize("activations,per_channel", [("QInt8", True), ("QUInt8", False)])
def test_qdq_model_imports_int8_and_matches_tflm(tmp_path, rng, activations, per_channel):
    from toolchain.verify.tflm import run_tflm

    model = qdq_model(tmp_path, activations, "QInt8", per_channel)
    graph = load_onnx(model)
    assert kinds(graph)[0] == "QUANTIZE" and kinds(graph)[-1] == "DEQUANTIZE"
    convs = [op for op in graph.ops if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert all(graph.tensors[op.inputs[1]].dtype == "int8" for op in convs)
    assert all(graph.tensors[op.inputs[2]].dtype == "int32" for op in convs)
    out_scale = graph.tensors[graph.ops[-1].inputs[0]].quant.s
    tflite = write_tflite(graph)
    for _ in range(3):
        x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
        want = ort_run(model, [x])[0]
        got = run_graph(graph, [to_nhwc(x)])[0]
        oplab.assert_exact(got, run_tflm(tflite, [to_nhwc(x)])[0], "tflm")
        oplab.assert_close(want, got, 2 * out_scale + 1e-6, "onnxruntime")


def test_qdq_asymmetric_conv_weights_are_rejected(tmp_path):
    model = qdq_model(tmp_path, "QUInt8", "QUInt8", per_channel=False)
    with pytest.raises(ModelError, match="zero point 0"):
        load_onnx(model)
