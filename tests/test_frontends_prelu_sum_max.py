"""Keras PReLU (per element and with shared axes; Keras 2 and 3, .h5 and .keras) loads as PRELU
and equals Keras (reference and LiteRT within 1e-4); torch.export's sum and amax (after a conv, so
over the stored NHWC layout) map to SUM and REDUCE_MAX and equal torch."""
from __future__ import annotations

import numpy as np
import pytest

from keras_builders import assert_matches_keras, libs, random_inputs  # noqa: F401 (fixture)
from toolchain.frontends.keras import load_keras
from toolchain.ops.interpreter import run_graph


def prelu_model(K):
    x = K.Input((5, 6, 3))
    a = K.layers.PReLU(alpha_initializer=K.initializers.RandomUniform(-0.5, 1.5))(x)
    c = K.layers.Conv2D(4, 3, padding="same")(a)
    y = K.layers.PReLU(alpha_initializer=K.initializers.RandomUniform(-0.5, 1.5),
                       shared_axes=[1, 2])(c)
    return K.Model(x, y)


@pytest.mark.parametrize("lib,suffix", [("tf_keras", ".h5"), ("keras", ".keras")])
def test_keras_prelu_equals_keras(libs, tmp_path, lib, suffix):  # noqa: F811
    model = prelu_model(libs[lib])
    path = tmp_path / f"prelu{suffix}"
    model.save(path)
    graph = load_keras(path)
    assert [o.kind for o in graph.ops].count("PRELU") == 2, [o.kind for o in graph.ops]
    assert_matches_keras(graph, model, random_inputs(graph, np.random.default_rng(1), -2, 2))


def test_torch_sum_and_amax(tmp_path):
    torch = pytest.importorskip("torch")
    from toolchain.frontends.torch_export import load_torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x):
            c = self.conv(x)
            return (c.sum(dim=(2, 3)), torch.amax(c, dim=1, keepdim=True),
                    x.sum(dim=-1, keepdim=True), torch.amax(x, dim=(0, 2)))

    torch.manual_seed(0)
    net = Net().eval()
    x = torch.randn(1, 3, 5, 6)
    torch.export.save(torch.export.export(net, (x,)), str(tmp_path / "m.pt2"))
    g = load_torch(str(tmp_path / "m.pt2"))
    assert {"SUM", "REDUCE_MAX"} <= {op.kind for op in g.ops}, [o.kind for o in g.ops]
    got = run_graph(g, [x.numpy().transpose(0, 2, 3, 1)])    # fitml's input is NHWC
    with torch.no_grad():
        want = [t.numpy() for t in net(x)]
    for k, (w, a) in enumerate(zip(want, got)):
        w = w.transpose(0, 2, 3, 1) if w.ndim == 4 else w    # rank-4 outputs are NHWC too
        np.testing.assert_allclose(np.asarray(a).reshape(w.shape), w, atol=1e-5, err_msg=str(k))
