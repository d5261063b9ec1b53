"""Converted models lose their explicit PADs, bit-exact to the original graph in TFLite Micro:
TensorFlow converter models with tf.pad before VALID windows (int8 and 16x8; asymmetric pads,
stride 2, a max pool's PADV2), PyTorch models through torch.export and through ONNX, and the
shared PyTorch-converted MobileNetV2 (whose NCHW input TRANSPOSE --input-layout nhwc removes).
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import shared_model
from oplab import assert_close, assert_exact
from toolchain.api import load, quantize
from toolchain.backends.c import lower
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ops.interpreter import run_graph
from toolchain.ops.quantize import quantize_float
from toolchain.verify.executors import get_executor
from toolchain.verify.tflm import run_tflm

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HW = (15, 14, 3)
PADS = ("PAD", "PADV2")


def tf_padded(dtype: str) -> bytes:
    """A Keras CNN whose windows are VALID after explicit pads, converted to int8 or 16x8."""
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(1)
    L = tf.keras.layers
    inp = tf.keras.Input(HW, batch_size=1)
    x = L.Conv2D(8, 3, strides=2, activation="relu")(L.ZeroPadding2D(1)(inp))
    x = L.DepthwiseConv2D(3, activation="relu6")(L.ZeroPadding2D(((0, 2), (2, 1)))(x))
    if dtype == "int8":     # 16x8: the converter leaves PADV2's constant float32
        x = L.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 1], [1, 1], [0, 0]],
                                      constant_values=-1e9))(x)
    x = L.MaxPooling2D(3, strides=2)(x)
    x = L.Conv2D(8, 3, strides=2, padding="valid")(L.ZeroPadding2D(((1, 0), (0, 1)))(x))
    x = L.AveragePooling2D(3, strides=1)(L.ZeroPadding2D(1)(x))
    model = tf.keras.Model(inp, L.Dense(5)(L.Flatten()(x)))
    rng = np.random.default_rng(0)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([rng.uniform(-1, 1, (1, *HW)).astype(np.float32)]
                                           for _ in range(16))
    conv.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS_INT8 if dtype == "int8" else
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    conv.inference_input_type = conv.inference_output_type = getattr(tf, dtype)
    return conv.convert()


def int_inputs(graph, rng) -> list[list[np.ndarray]]:
    """Quantized uniform floats and full-range integers for the one input."""
    t = graph.tensors[graph.inputs[0]]
    info = np.iinfo(t.dtype)
    real = quantize_float(rng.uniform(-1, 1, t.shape).astype(np.float32), t.quant.s,
                          t.quant.zp, t.dtype)
    return [[real], [rng.integers(info.min, info.max + 1, t.shape).astype(t.dtype)]]


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_tf_converter_pads_fold_bit_exact(dtype, rng):
    blob = tf_padded(dtype)
    raw, graph = load_tflite(blob, cleanup=False), load_tflite(blob)
    assert sum(op.kind in PADS for op in raw.ops) == (5 if dtype == "int8" else 4)
    # left: the zero PAD before the average pool (TFLite averages only the image's taps)
    assert [op.kind for op in graph.ops if op.kind in PADS] == ["PAD"]
    assert {op.attr("padding") for op in graph.ops} >= {"EXPLICIT"}
    for inputs in int_inputs(graph, rng):
        want = run_tflm(blob, inputs)[0]                        # the original file in TFLM
        assert_exact(want, run_graph(graph, inputs)[0], f"{dtype} reference")
        assert_exact(want, get_executor("host")(graph, inputs).outputs[0], f"{dtype} host C")
        assert_exact(want, run_tflm(write_tflite(graph), inputs)[0], f"{dtype} written")


def torch_net():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Net(nn.Module):
        """MobileNet-like padding: stride-2 convs with padding 1 on even sizes (not SAME),
        a max pool with padding, an average pool counting its padding, asymmetric kernels."""

        def __init__(self):
            super().__init__()
            self.c1, self.b1 = nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8)
            self.dw, self.pw = nn.Conv2d(8, 8, 3, 2, 1, groups=8), nn.Conv2d(8, 16, 1)
            self.mp, self.ap = nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(3, 1, 1)
            self.c3, self.fc = nn.Conv2d(16, 8, (3, 5), 1, (0, 2)), nn.Linear(64, 10)

        def forward(self, x):
            x = nn.functional.relu6(self.b1(self.c1(x)))
            x = self.ap(self.mp(self.pw(torch.relu(self.dw(x)))))
            return self.fc(torch.flatten(torch.relu(self.c3(x)), 1))

    torch.manual_seed(0)
    net = Net().eval()
    with torch.no_grad():
        net.b1.running_mean.uniform_(-0.5, 0.5)
        net.b1.running_var.uniform_(0.5, 2.0)
    return torch, net


def _float_close(graph, torch, net, x):
    want = net(torch.from_numpy(x)).detach().numpy()
    got = run_graph(graph, [np.ascontiguousarray(x.transpose(0, 2, 3, 1))])[0]
    assert_close(want, got, 1e-4 * max(1.0, float(np.abs(want).max())), "float vs torch")


def test_torch_export_pads_fold_then_int8_bit_exact(rng):
    torch, net = torch_net()
    x = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    graph = load(net, (torch.from_numpy(x),))
    assert [op.kind for op in graph.ops if op.kind in PADS] == ["PAD"]      # the average's
    assert sum(op.attr("padding") == "EXPLICIT" for op in graph.ops) >= 2
    _float_close(graph, torch, net, x)
    calib = [[rng.standard_normal((1, 32, 32, 3)).astype(np.float32)] for _ in range(8)]
    int8 = quantize(graph, calib)
    for inputs in int_inputs(int8, rng):
        want = run_graph(int8, inputs)[0]
        assert_exact(want, run_tflm(write_tflite(int8), inputs)[0], "TFLM (PAD + VALID)")
        assert_exact(want, get_executor("host")(int8, inputs).outputs[0], "host C")


def test_onnx_from_torch_pads_fold(tmp_path, rng):
    pytest.importorskip("onnx")
    torch, net = torch_net()
    x = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    path = tmp_path / "net.onnx"
    torch.onnx.export(net, (torch.from_numpy(x),), str(path), dynamo=False)
    graph = load(path)
    assert [op.kind for op in graph.ops if op.kind in PADS] == ["PAD"]      # the average's
    _float_close(graph, torch, net, x)


MOBILENET = "tflm/mobilenet_v2_pytorch_int8_224.tflite"
DOG = "tflm/mobilenet_v2_sample_dog_int8.npy"       # top-1 258 (Samoyed)


def test_mobilenet_v2_canonical_schedule_bit_exact():
    """No PAD and (with --input-layout nhwc) no TRANSPOSE left in the compiled schedule;
    reference and host C equal TFLM running the original file on the dog image."""
    path = shared_model(MOBILENET)
    raw = load_tflite(path, cleanup=False)
    assert [op.kind for op in raw.ops].count("PAD") == 18
    assert "PAD" not in {op.kind for op in load(path).ops}
    graph = load(path, input_layout="nhwc")
    assert graph.tensors[graph.inputs[0]].shape == (1, 224, 224, 3)
    kinds = {op.kind for op in lower(graph).graph.ops}
    assert not kinds & {"PAD", "PADV2", "TRANSPOSE"}, kinds
    dog = np.load(shared_model(DOG))
    nhwc = np.ascontiguousarray(dog.transpose(0, 2, 3, 1))
    want = run_tflm(path.read_bytes(), [dog])[0]
    assert int(np.argmax(want)) == 258
    assert_exact(want, run_graph(graph, [nhwc])[0], "reference")
    assert_exact(want, get_executor("host")(graph, [nhwc]).outputs[0], "host C")
