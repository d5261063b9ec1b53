"""The ONNX frontend on the shared models: they reproduce onnxruntime (and mnist-8 its shipped
outputs), cleanup fuses what it should, and a dynamic batch dim defaults to 1."""
from __future__ import annotations


import numpy as np
import pytest

from conftest import shared_model
from toolchain import api
from toolchain.backends.tflite import write_tflite
from toolchain.errors import ModelError
from toolchain.frontends.onnx import load_onnx
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph
from onnx_cases import check_model, close, kinds, to_nhwc

@pytest.mark.parametrize("index", [0, 1, 2])
def test_mnist8_reproduces_shipped_outputs(index):
    path = shared_model("onnx/mnist-8.onnx")
    data = path.parent / "mnist8_test_data"
    x = np.load(data / f"set{index}_input_0.npy")
    want = np.load(data / f"set{index}_output_0.npy")
    graph = load_onnx(path)
    close(want, run_graph(graph, [to_nhwc(x)])[0], "reference")
    close(want, run_litert(write_tflite(graph), [to_nhwc(x)])[0], "litert")
    assert graph.tensors[graph.inputs[0]].shape == (1, 28, 28, 1)


SHARED = {"onnx/mnist-8.onnx": (1, 1, 28, 28), "onnx/onnx2c_mnist_pytorch.onnx": (1, 784),
          "onnx/onnx2c_tfl_helloworld.onnx": (1, 1)}


@pytest.mark.parametrize("rel", sorted(SHARED))
def test_shared_models_equal_onnxruntime(rel, rng):
    model = shared_model(rel).read_bytes()
    inputs = [rng.standard_normal(SHARED[rel]).astype(np.float32) * 2]
    graph = check_model(model, inputs)
    assert "MUL" not in kinds(graph) and "ADD" not in kinds(graph), kinds(graph)  # BN, biases


def test_shared_mnist8_cleanup_fuses_bias_relu_and_flatten():
    graph = load_onnx(shared_model("onnx/mnist-8.onnx"))
    # the NCHW flatten's TRANSPOSE is folded into the FC weight columns
    assert kinds(graph) == ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "MAX_POOL_2D", "RESHAPE",
                            "FULLY_CONNECTED"]
    assert [op.attr("activation") for op in graph.ops if op.kind == "CONV_2D"] == ["RELU"] * 2


def test_dynamic_batch_named_like_a_batch_defaults_to_one_or_input_shapes():
    path = shared_model("onnx/onnx2c_tfl_helloworld.onnx")   # input ['N', 1]
    assert load_onnx(path).tensors["dense_2_input"].shape == (1, 1)
    graph = api.load(path, input_shapes={"dense_2_input": (5, 1)})
    assert graph.tensors["dense_2_input"].shape == (5, 1)
    assert graph.tensors[graph.outputs[0]].shape == (5, 1)
    with pytest.raises(ModelError, match="does not fit"):
        load_onnx(path, input_shapes={"dense_2_input": (5, 2)})
