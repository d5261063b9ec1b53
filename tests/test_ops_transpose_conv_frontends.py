"""TRANSPOSE_CONV from the other frontends: ONNX ConvTranspose (vs onnx's reference
evaluator), torch.export conv_transpose2d (vs torch, and generated C on the host) and Keras
Conv2DTranspose (vs Keras), with the padding TFLite's SAME / VALID places exactly or VALID plus
a crop; unsupported attributes are one-line ModelErrors naming the node."""
from __future__ import annotations

import numpy as np
import pytest

from oplab import assert_close
from toolchain.errors import ModelError
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

NCHW_TO_NHWC = (0, 2, 3, 1)
ONNX_CASES = {   # name: (input NCHW, weights [C_in, C_out, KH, KW], attributes, kinds)
    "k3_s2_pad1_outpad1": ((1, 4, 5, 6), (4, 3, 3, 3),
                           dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
                           ["TRANSPOSE_CONV", "STRIDED_SLICE"]),
    "k4_s2_pad1_same": ((1, 4, 5, 6), (4, 3, 4, 4), dict(strides=[2, 2], pads=[1, 1, 1, 1]),
                        ["TRANSPOSE_CONV"]),
    "k3x2_s12_valid": ((2, 4, 5, 6), (4, 3, 3, 2), dict(strides=[1, 2]), ["TRANSPOSE_CONV"]),
}


def onnx_model(path, x_shape, w_shape, attrs, bias: bool = True):
    """A one-node ConvTranspose model saved to `path`; returns the onnx ModelProto."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(sum(w_shape))
    inits = [numpy_helper.from_array(rng.standard_normal(w_shape).astype(np.float32), "w")]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(w_shape[1]).astype(np.float32),
                                             "b"))
    node = helper.make_node("ConvTranspose", ["x", "w"] + (["b"] if bias else []), ["y"],
                            name="up", **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, x_shape)], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, None)], inits)
    model = onnx.shape_inference.infer_shapes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    onnx.save(model, str(path))
    return model


@pytest.mark.parametrize("case", ONNX_CASES)
def test_onnx_conv_transpose_equals_onnx_reference(case, tmp_path):
    pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    from toolchain.frontends.onnx import load_onnx

    x_shape, w_shape, attrs, kinds = ONNX_CASES[case]
    model = onnx_model(tmp_path / "m.onnx", x_shape, w_shape, attrs)
    graph = load_onnx(str(tmp_path / "m.onnx"))
    assert [op.kind for op in graph.ops] == kinds
    x = np.random.default_rng(1).standard_normal(x_shape).astype(np.float32)
    want = ReferenceEvaluator(model).run(None, {"x": x})[0].transpose(NCHW_TO_NHWC)
    assert_close(want, run_graph(graph, [x.transpose(NCHW_TO_NHWC)])[0], 1e-5, case)


@pytest.mark.parametrize("attrs,message", [
    (dict(group=2), "group=2"),
    (dict(dilations=[2, 2]), "dilations=[2, 2]"),
    (dict(auto_pad="SAME_UPPER"), "auto_pad='SAME_UPPER'"),
    (dict(strides=[2, 2], output_padding=[2, 0]), "output_padding [2, 0]"),
])
def test_onnx_unsupported_attributes_are_one_line_errors(attrs, message, tmp_path):
    pytest.importorskip("onnx")
    from toolchain.frontends.onnx import load_onnx

    w_shape = (4, 2, 3, 3) if "group" in attrs else (4, 3, 3, 3)
    onnx_model(tmp_path / "m.onnx", (1, 4, 5, 5), w_shape, attrs, bias=False)
    with pytest.raises(ModelError) as err:
        load_onnx(str(tmp_path / "m.onnx"))
    text = str(err.value)
    assert "\n" not in text and "ConvTranspose" in text and message in text, text


TORCH_CASES = {
    "k3_s2_pad1_outpad1_relu": dict(kernel_size=3, stride=2, padding=1, output_padding=1),
    "k4_s2_pad1": dict(kernel_size=4, stride=2, padding=1),
    "k3_s12_nobias": dict(kernel_size=3, stride=(1, 2), bias=False),
}


@pytest.mark.parametrize("case", TORCH_CASES)
def test_torch_conv_transpose2d_equals_torch_and_host_c(case, tmp_path):
    torch = pytest.importorskip("torch")
    from toolchain.frontends.torch_export import load_torch

    torch.manual_seed(len(case))
    layers = [torch.nn.ConvTranspose2d(4, 3, **TORCH_CASES[case])]
    if case.endswith("relu"):
        layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).eval()
    x = torch.randn(1, 4, 5, 6)
    torch.export.save(torch.export.export(net, (x,)), str(tmp_path / "m.pt2"))
    graph = load_torch(str(tmp_path / "m.pt2"))
    assert "TRANSPOSE_CONV" in {op.kind for op in graph.ops}
    with torch.no_grad():
        want = net(x).numpy().transpose(NCHW_TO_NHWC)
    nhwc = x.numpy().transpose(NCHW_TO_NHWC)
    ref = run_graph(graph, [nhwc])[0]
    assert_close(want, ref, 1e-5, f"{case} reference")
    got = get_executor("host")(graph, [nhwc]).outputs[0]
    assert_close(ref, np.asarray(got).reshape(ref.shape), 0, f"{case} host C")


KERAS_CASES = {
    "s2_same_relu": dict(kernel_size=3, strides=2, padding="same", activation="relu"),
    "s21_valid_nobias": dict(kernel_size=3, strides=(2, 1), padding="valid", use_bias=False),
    "k2_s3_valid": dict(kernel_size=2, strides=3, padding="valid"),
    "s2_same_outpad1": dict(kernel_size=3, strides=2, padding="same", output_padding=1),
}


@pytest.mark.parametrize("case", KERAS_CASES)
def test_keras_conv2d_transpose_equals_keras(case, tmp_path):
    keras = pytest.importorskip("keras")
    from toolchain.frontends.keras import load_keras

    net = keras.Sequential([keras.Input((5, 6, 4)),
                            keras.layers.Conv2DTranspose(3, **KERAS_CASES[case])])
    rng = np.random.default_rng(len(case))
    net.set_weights([rng.standard_normal(w.shape).astype(np.float32)
                     for w in net.get_weights()])
    net.save(str(tmp_path / "m.keras"))
    graph = load_keras(str(tmp_path / "m.keras"))
    (op,) = graph.ops
    want_act = "RELU" if case.endswith("relu") else "NONE"
    assert (op.kind, op.attr("activation")) == ("TRANSPOSE_CONV", want_act)
    x = rng.standard_normal((1, 5, 6, 4)).astype(np.float32)
    assert_close(net.predict(x, verbose=0), run_graph(graph, [x])[0], 1e-5, case)


def test_keras_dilated_conv2d_transpose_is_refused(tmp_path):
    keras = pytest.importorskip("keras")
    from toolchain.frontends.keras import load_keras

    net = keras.Sequential([keras.Input((5, 6, 4)),
                            keras.layers.Conv2DTranspose(3, 3, dilation_rate=2)])
    net.save(str(tmp_path / "m.keras"))
    with pytest.raises(ModelError, match="dilation_rate"):
        load_keras(str(tmp_path / "m.keras"))
