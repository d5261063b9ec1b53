"""ELU from every frontend: ONNX Elu, torch.export's F.elu and Keras (the ELU layer and
activation "elu", .h5 and .keras) load as ELU and equal the framework's own output; an alpha
other than 1 (TFLite's ELU has none) is refused with one line naming it. Keras
UnitNormalization loads as L2_NORMALIZATION. torch.floor_divide
loads as FLOOR_DIV and equals torch."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
from keras_builders import keras_outputs, libs, random_inputs  # noqa: F401 (fixture)
from toolchain.errors import ModelError
from toolchain.frontends.keras import load_keras
from toolchain.ops.interpreter import run_graph

SHAPE = (1, 3, 4, 5)


def onnx_elu(tmp_path, alpha: float):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from toolchain.frontends.onnx import load_onnx

    vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(SHAPE)) for n in "xy"]
    graph = helper.make_graph([helper.make_node("Elu", ["x"], ["y"], alpha=alpha)], "g",
                              vi[:1], vi[1:])
    path = tmp_path / "elu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return load_onnx(str(path), keep_nchw_io=True)


def test_onnx_elu(tmp_path):
    g = onnx_elu(tmp_path, 1.0)
    assert [op.kind for op in g.ops] == ["ELU"], [o.kind for o in g.ops]
    x = np.random.default_rng(3).standard_normal(SHAPE).astype(np.float32) * 3
    want = np.where(x > 0, x, np.expm1(x.astype(np.float64))).astype(np.float32)
    co.assert_same(want, run_graph(g, [x])[0], "onnx elu", 1e-7)
    co.check_c(co.Model(g, b"", [[x]]), "host", None, atol=1e-7)


def test_onnx_elu_alpha_is_refused(tmp_path):
    with pytest.raises(ModelError, match="alpha 0.5"):
        onnx_elu(tmp_path, 0.5)


def test_torch_elu(tmp_path):
    torch = pytest.importorskip("torch")
    from toolchain.frontends.torch_export import load_torch

    class Net(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.elu(x * 2.0)

    net = Net().eval()
    x = torch.randn(2, 7)
    torch.export.save(torch.export.export(net, (x,)), str(tmp_path / "m.pt2"))
    g = load_torch(str(tmp_path / "m.pt2"))
    assert "ELU" in {op.kind for op in g.ops}, [o.kind for o in g.ops]
    with torch.no_grad():
        want = net(x).numpy()
    np.testing.assert_allclose(np.asarray(run_graph(g, [x.numpy()])[0]).reshape(want.shape),
                               want, atol=1e-6)


def elu_model(K):
    x = K.Input((6, 4))
    h = K.layers.Dense(5, activation="elu")(x)
    return K.Model(x, [K.layers.ELU()(h), K.layers.UnitNormalization()(h)])


@pytest.mark.parametrize("lib,suffix", [("tf_keras", ".h5"), ("keras", ".keras")])
def test_keras_elu_equals_keras(libs, tmp_path, lib, suffix, pool):  # noqa: F811
    """Reference and LiteRT's default resolver (its reference resolver has no ELU) vs Keras."""
    from toolchain.backends.tflite import write_tflite
    from toolchain.verify.litert import run_litert_default

    model = elu_model(libs[lib])
    path = tmp_path / f"elu{suffix}"
    model.save(path)
    graph = load_keras(path)
    kinds = [o.kind for o in graph.ops]
    assert kinds.count("ELU") == 2 and "L2_NORMALIZATION" in kinds, kinds
    inputs = random_inputs(graph, np.random.default_rng(1), -3, 3)
    want = keras_outputs(model, inputs)
    lite = pool.submit(run_litert_default, write_tflite(graph), inputs).result()
    for e, g, li in zip(want, run_graph(graph, inputs), lite):
        np.testing.assert_allclose(g, e, atol=1e-5, err_msg="reference vs Keras")
        np.testing.assert_allclose(li, e, atol=1e-5, err_msg="LiteRT vs Keras")


def test_torch_floor_divide(tmp_path):
    torch = pytest.importorskip("torch")
    from toolchain.frontends.torch_export import load_torch

    class Net(torch.nn.Module):
        def forward(self, x, y):
            return torch.floor_divide(x * 10.0, y * y + 0.5), x // 0.75

    net = Net().eval()
    x, y = torch.randn(3, 8), torch.randn(3, 8)
    torch.export.save(torch.export.export(net, (x, y)), str(tmp_path / "m.pt2"))
    g = load_torch(str(tmp_path / "m.pt2"))
    assert [op.kind for op in g.ops].count("FLOOR_DIV") == 2, [o.kind for o in g.ops]
    with torch.no_grad():
        want = [t.numpy() for t in net(x, y)]
    for k, (w, a) in enumerate(zip(want, run_graph(g, [x.numpy(), y.numpy()]))):
        np.testing.assert_array_equal(np.asarray(a).reshape(w.shape), w, err_msg=str(k))
