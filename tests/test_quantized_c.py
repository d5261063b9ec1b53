"""Models fitml quantizes itself run bit-exact in generated C and in TFLite Micro.

Three float models go through `api.quantize` on seeded calibration data: a torch CNN built
here (BatchNorm, depthwise-separable block, residual ADD, HardSwish, LeakyReLU, average pool,
linear), the example ONNX MNIST CNN with its shipped calibration set, and a Keras CNN built
here and saved as .h5 (quantized twice: int8 I/O, and float I/O with QUANTIZE / DEQUANTIZE at
the edges). On seeded inputs the host C build (ASan/UBSan), the Cortex-M4 build under QEMU and
TFLite Micro running the `write_tflite` flatbuffer must all equal the numpy reference exactly.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

from conftest import REPO
from oplab import assert_exact
import toolchain
from toolchain import api
from toolchain.backends.tflite import write_tflite
from toolchain.ir import Graph
from toolchain.ops.quantize import quantize_float
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
CASES = 6          # seeded inputs per model
CALIB = 24         # seeded calibration inputs (torch, Keras)
HW = (16, 16, 3)   # NHWC input of the torch and Keras CNNs
MODELS = ["torch", "onnx", "keras", "keras_float_io"]
# int8 ops each model must still hold after quantization (so the test covers what it claims)
MUST_HAVE = {
    "torch": {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "HARD_SWISH", "LEAKY_RELU",
              "AVERAGE_POOL_2D", "FULLY_CONNECTED"},
    "onnx": {"CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED"},
    "keras": {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "HARD_SWISH", "LEAKY_RELU",
              "MAX_POOL_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"},
}
MUST_HAVE["keras_float_io"] = MUST_HAVE["keras"] | {"QUANTIZE", "DEQUANTIZE"}


@dataclass(frozen=True)
class Quantized:
    graph: Graph                        # the int8 graph api.quantize returned
    cases: list[list[np.ndarray]]       # inputs in the graph's own input dtype


def float_batches(rng, count: int, shape=(1, *HW)) -> list[list[np.ndarray]]:
    return [[rng.uniform(-1.5, 1.5, shape).astype(np.float32)] for _ in range(count)]


def as_graph_inputs(graph: Graph, floats: list[np.ndarray]) -> list[np.ndarray]:
    """Float inputs as the graph takes them: quantized with its input params when int8."""
    out = []
    for name, x in zip(graph.inputs, floats):
        t = graph.tensors[name]
        out.append(x if t.dtype == "float32" else quantize_float(x, t.quant.s, t.quant.zp,
                                                                  t.dtype))
    return out


def quantize(float_graph: Graph, calib, rng, io: str = "int8", floats=None) -> Quantized:
    graph = api.quantize(float_graph, calib, io=io, progress=False)
    floats = float_batches(rng, CASES) if floats is None else floats
    return Quantized(graph, [as_graph_inputs(graph, f) for f in floats])


# ---------------------------------------------------------------------- the models

def torch_cnn():
    """Conv+BN+HardSwish stem, depthwise-separable residual block with LeakyReLU, avg pool,
    linear; BatchNorm statistics randomized so folding them matters."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
                                      nn.BatchNorm2d(8), nn.Hardswish())
            self.block = nn.Sequential(
                nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8),
                nn.LeakyReLU(0.1), nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8))
            self.act = nn.Hardswish()
            self.pool = nn.AvgPool2d(2)
            self.fc = nn.Linear(8 * 4 * 4, 10)

        def forward(self, x):
            y = self.stem(x)
            y = self.act(y + self.block(y))
            return self.fc(torch.flatten(self.pool(y), 1))

    torch.manual_seed(0)
    net = Net().eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return net, torch.zeros(1, HW[2], *HW[:2])


def keras_cnn(path):
    """Conv+BN+hard_swish, depthwise-separable residual block, LeakyReLU, max pool, conv,
    global average pool, dense, softmax; saved as .h5."""
    keras = pytest.importorskip("keras")
    L = keras.layers
    keras.utils.set_random_seed(1)
    inp = keras.Input(HW)
    x = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inp)
    x = L.Activation("hard_swish")(L.BatchNormalization()(x))
    y = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    y = L.ReLU(max_value=6.0)(L.BatchNormalization()(y))
    y = L.Conv2D(8, 1)(y)
    x = L.LeakyReLU(negative_slope=0.2)(L.Add()([x, y]))
    x = L.Conv2D(12, 3, padding="valid")(L.MaxPooling2D(2)(x))
    x = L.Dense(10)(L.GlobalAveragePooling2D()(x))
    model = keras.Model(inp, L.Softmax()(x))
    rng = np.random.default_rng(2)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            n = layer.get_weights()[0].size
            layer.set_weights([rng.uniform(lo, hi, n).astype(np.float32) for lo, hi in
                               ((0.5, 1.5), (-0.3, 0.3), (-0.5, 0.5), (0.5, 2.0))])
    with warnings.catch_warnings():     # Keras's own .h5 writer trips a numpy 2 deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(path)
    return path


@pytest.fixture(scope="session")
def torch_model():
    net, example = torch_cnn()
    rng = np.random.default_rng(10)
    return quantize(toolchain.load(net, (example,)), float_batches(rng, CALIB), rng)


@pytest.fixture(scope="session")
def onnx_model():
    calib = REPO / "examples" / "mnist_calib.npy"
    graph = toolchain.load(REPO / "examples" / "mnist_cnn.onnx")
    val = np.load(REPO / "examples" / "mnist_val.npz")["x"]
    rng = np.random.default_rng(11)
    picks = rng.choice(len(val), CASES, replace=False)
    return quantize(graph, str(calib), rng, floats=[[val[i:i + 1]] for i in picks])


@pytest.fixture(scope="session")
def keras_float_graph(tmp_path_factory):
    return toolchain.load(keras_cnn(tmp_path_factory.mktemp("keras") / "cnn.h5"))


@pytest.fixture(scope="session")
def keras_model(keras_float_graph):
    rng = np.random.default_rng(12)
    return quantize(keras_float_graph, float_batches(rng, CALIB), rng)


@pytest.fixture(scope="session")
def keras_float_io_model(keras_float_graph):
    rng = np.random.default_rng(12)        # same calibration as keras_model, other inputs
    calib = float_batches(rng, CALIB)
    return quantize(keras_float_graph, calib, np.random.default_rng(13), io="float")


@pytest.fixture
def model(request) -> Quantized:
    return request.getfixturevalue(f"{request.param}_model")


# ---------------------------------------------------------------------- checks

@pytest.mark.parametrize("model", MODELS, indirect=True)
def test_quantized_graph_is_what_it_claims(model, request):
    key = request.node.callspec.params["model"]
    g = model.graph
    kinds = {op.kind for op in g.ops}
    assert MUST_HAVE[key] <= kinds, f"missing {MUST_HAVE[key] - kinds}"
    edge = "float32" if key == "keras_float_io" else "int8"
    for name in g.inputs + g.outputs:
        assert g.tensors[name].dtype == edge, f"{name}: {g.tensors[name].dtype}"
    inner = [g.tensors[t] for op in g.ops for t in op.outputs
             if op.kind != "DEQUANTIZE"]
    assert all(t.dtype == "int8" for t in inner), [t.name for t in inner if t.dtype != "int8"]
    outs = np.stack([run_graph(g, x)[0] for x in model.cases])
    assert np.unique(outs).size > 2 * CASES, "reference outputs barely vary: a weak test"


@pytest.mark.parametrize("executor", ["host", "qemu"])
@pytest.mark.parametrize("model", MODELS, indirect=True)
def test_generated_c_bit_exact(model, executor, request):
    key = request.node.callspec.params["model"]
    run = get_executor(executor)
    opts = {"target": "cortex-m4"} if executor == "qemu" else {}
    for i, inputs in enumerate(model.cases):
        expected = run_graph(model.graph, inputs)
        got = run(model.graph, inputs, **opts).outputs
        assert len(got) == len(expected)
        for k, (e, g) in enumerate(zip(expected, got)):
            assert_exact(e, g, f"{key} {executor} case {i} output {k}")


@pytest.mark.parametrize("model", MODELS, indirect=True)
def test_written_tflite_bit_exact_in_tflm(model, request):
    from toolchain.verify.tflm import run_tflm

    key = request.node.callspec.params["model"]
    flatbuffer = write_tflite(model.graph)
    for i, inputs in enumerate(model.cases):
        expected = run_graph(model.graph, inputs)
        got = run_tflm(flatbuffer, inputs)
        assert len(got) == len(expected)
        for k, (e, g) in enumerate(zip(expected, got)):
            assert_exact(e, np.asarray(g).reshape(e.shape), f"{key} tflm case {i} output {k}")
