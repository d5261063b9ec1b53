"""fitml's post-training quantizer on TRANSPOSE_CONV models from three frontends (a float Keras
Conv2DTranspose through TensorFlow's converter, torch ConvTranspose2d + BatchNorm2d + ReLU
through torch.export, an ONNX ConvTranspose), in int8 and 16x8: the BatchNorm folds into the
transposed conv, the quantized graph follows TFLite's scheme (per-channel int8 filter on axis 0,
bias at s_in * s_w), runs bit-exact in fitml's reference, TFLite Micro, the host C and QEMU, and
stays close to the float model (output SNR). SVDF and BATCH_MATMUL with a constant operand:
tests/test_ptq_svdf_bmm.py.
"""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops
from cli_util import fitml
from toolchain import api
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph
from toolchain.ops.interpreter import run_graph
from toolchain.ops.quantize import quantize_float
from toolchain.passes import CLEANUP, run_pipeline

FRONTENDS = ("keras", "torch", "onnx")
MODES = {"int8": "int8", "16x8": "int16"}
MIN_SNR_DB = 25.0


def keras_float(tmp_path_factory) -> Graph:
    """Conv2DTranspose(6, 3, strides 2, same, relu), converted float by TF's converter."""
    tf = pytest.importorskip("tensorflow")
    keras = tf.keras
    keras.utils.set_random_seed(3)
    layer = keras.layers.Conv2DTranspose(6, 3, strides=2, padding="same", activation="relu",
                                         bias_initializer="random_normal")
    layer.build((1, 5, 6, 4))
    fn = tf.function(lambda x: layer(x))
    path = tmp_path_factory.mktemp("keras_tconv") / "m.tflite"
    path.write_bytes(converted_ops.convert(fn, [(1, 5, 6, 4)], "float32"))
    return load_tflite(str(path))


def torch_float(tmp_path_factory) -> Graph:
    """ConvTranspose2d(4, 6, 4, stride 2, padding 1) + BatchNorm2d (trained-looking running
    statistics) + ReLU, through torch.export."""
    torch = pytest.importorskip("torch")
    from toolchain.frontends.torch_export import load_torch

    torch.manual_seed(5)
    bn = torch.nn.BatchNorm2d(6)
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.3, 0.3)
    net = torch.nn.Sequential(torch.nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1), bn,
                              torch.nn.ReLU()).eval()
    path = tmp_path_factory.mktemp("torch_tconv") / "m.pt2"
    torch.export.save(torch.export.export(net, (torch.randn(1, 4, 5, 6),)), str(path))
    return load_torch(str(path))


def onnx_float(tmp_path_factory) -> Graph:
    """One ConvTranspose (3x3, stride 2, pads 1, output_padding 1: fitml adds a crop)."""
    from toolchain.frontends.onnx import load_onnx

    return load_onnx(str(onnx_file(tmp_path_factory.mktemp("onnx_tconv") / "m.onnx")))


def onnx_file(path):
    """Write onnx_float's model to `path`; returns the path."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    inits = [numpy_helper.from_array(rng.normal(0, 0.3, (4, 6, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.normal(0, 0.3, 6).astype(np.float32), "b")]
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="up", strides=[2, 2],
                            pads=[1, 1, 1, 1], output_padding=[1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, (1, 4, 5, 6))], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(onnx.shape_inference.infer_shapes(model), str(path))
    return path


BUILDERS = {"keras": keras_float, "torch": torch_float, "onnx": onnx_float}


def samples(graph: Graph, seed: int, n: int) -> list[np.ndarray]:
    shape = graph.tensors[graph.inputs[0]].shape
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, shape).astype(np.float32) for _ in range(n)]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{frontend: float graph}, {(frontend, mode): converted_ops.Model of the quantized graph}
    (cases: seeded inputs in the calibrated range, then codes over the whole integer range)."""
    floats = {name: build(tmp_path_factory) for name, build in BUILDERS.items()}
    quantized = {}
    for name, g in floats.items():
        calib = [[x] for x in samples(g, 11, 24)]
        for mode, acts in MODES.items():
            q = api.quantize(g, calib, progress=False, activations=acts)
            x = q.tensors[q.inputs[0]]
            rng = np.random.default_rng(13)
            cases = [[quantize_float(v, x.quant.s, x.quant.zp, x.dtype)]
                     for v in samples(g, 12, 3)]
            info = np.iinfo(x.dtype)
            cases += [[rng.integers(info.min, info.max + 1, x.shape).astype(x.dtype)]]
            quantized[name, mode] = converted_ops.Model(q, write_tflite(q), cases)
    return floats, quantized


CASES = [(f, m) for f in FRONTENDS for m in MODES]
IDS = [f"{f}-{m}" for f, m in CASES]


def test_batchnorm_folds_into_transpose_conv(models):
    """torch's ConvTranspose2d + BatchNorm2d + ReLU is one TRANSPOSE_CONV with a fused RELU."""
    g = run_pipeline(models[0]["torch"], CLEANUP)
    kinds = [op.kind for op in g.ops if op.kind not in ("TRANSPOSE", "RESHAPE")]
    assert kinds == ["TRANSPOSE_CONV"], [op.kind for op in g.ops]
    (op,) = [op for op in g.ops if op.kind == "TRANSPOSE_CONV"]
    assert op.attr("activation") == "RELU"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_quantized_transpose_conv_follows_tflite_scheme(models, case):
    q = models[1][case].graph
    act = "int16" if case[1] == "16x8" else "int8"
    ops = [op for op in q.ops if op.kind == "TRANSPOSE_CONV"]
    assert len(ops) == 1, [op.kind for op in q.ops]
    op = ops[0]
    x, w, out = (q.tensors[op.inputs[k]] for k in (2, 1, 0))
    assert (x.dtype, w.dtype, w.quant.axis, w.quant.scale.size) == (act, "int8", 0, w.shape[0])
    assert np.abs(w.data.astype(int)).max() == 127
    assert out.dtype == "int32"                      # output_shape stays as it was
    if len(op.inputs) > 3 and op.inputs[3]:
        b = q.tensors[op.inputs[3]]
        assert b.dtype == ("int64" if act == "int16" else "int32")
        want = (np.float32(x.quant.s) * w.quant.scale.astype(np.float32)).astype(np.float32)
        np.testing.assert_array_equal(np.asarray(b.quant.scale, np.float32), want)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reference_equals_tflm(models, case):
    converted_ops.check_tflm(models[1][case])


C_RUNS = [(c, "host", None) for c in CASES] + [(c, "qemu", "cortex-m4") for c in CASES] + [
    (("torch", "int8"), "qemu", "cortex-m0")]


@pytest.mark.parametrize("case,executor,target", C_RUNS,
                         ids=[f"{e}-{t or 'x86'}-{c[0]}-{c[1]}" for c, e, t in C_RUNS])
def test_generated_c_equals_reference(models, case, executor, target):
    converted_ops.check_c(models[1][case], executor, target)


def snr_db(want: np.ndarray, got: np.ndarray) -> float:
    noise = np.sum((want - got) ** 2)
    return float(10 * np.log10(np.sum(want ** 2) / max(noise, 1e-30)))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_quantized_output_is_close_to_float(models, case):
    """Dequantized output vs the float model on held-out seeded inputs: SNR above 25 dB (the
    model's input and output stay int8 in 16x8 too, so it gains little on one layer)."""
    g, q = models[0][case[0]], models[1][case].graph
    x, y = q.tensors[q.inputs[0]], q.tensors[q.outputs[0]]
    want, got = [], []
    for v in samples(g, 21, 8):
        want.append(run_graph(g, [v])[0])
        codes = run_graph(q, [quantize_float(v, x.quant.s, x.quant.zp, x.dtype)])[0]
        got.append((codes.astype(np.float64) - y.quant.zp) * y.quant.s)
    snr = snr_db(np.stack(want).astype(np.float64), np.stack(got))
    print(f"{case}: SNR {snr:.1f} dB")
    assert snr > MIN_SNR_DB, f"{case}: SNR {snr:.1f} dB"


def test_cli_compiles_float_onnx_conv_transpose_with_calib(tmp_path):
    """The issue's repro: `fitml compile MODEL --calib X.npy` on a float ConvTranspose
    (calibration in fitml's NHWC input layout)."""
    model = onnx_file(tmp_path / "m.onnx")
    calib = tmp_path / "calib.npy"
    np.save(calib, np.random.default_rng(3).uniform(-1.5, 1.5, (16, 5, 6, 4))
            .astype(np.float32))
    proc = fitml("compile", model, "--calib", calib, "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "fitml_transpose_conv_s8" in (tmp_path / "out" / "model.c").read_text()
