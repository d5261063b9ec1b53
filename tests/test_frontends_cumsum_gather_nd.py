"""ONNX CumSum (after a Conv, so along the stored NHWC layout; exclusive and reverse) and
GatherND (constant indices, negative ones too) load as CUMSUM and GATHER_ND and equal
onnxruntime (reference and LiteRT); torch.export's cumsum maps to CUMSUM and equals torch;
ONNX GatherND with batch_dims or runtime indices is refused with a clear error."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from onnx_cases import check_model, kinds, make
from toolchain.errors import ModelError
from toolchain.frontends.onnx import load_onnx
from toolchain.ops.interpreter import run_graph

RNG = np.random.default_rng(21)
W = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)


def onnx_model() -> bytes:
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("CumSum", ["c", "axis1"], ["cs_channels"], exclusive=1, reverse=1),
             helper.make_node("CumSum", ["c", "axis_last"], ["cs_width"]),
             helper.make_node("GatherND", ["c", "pairs"], ["rows"]),
             helper.make_node("GatherND", ["c", "points"], ["points_out"])]
    inits = {"w": W, "axis1": np.array(1, np.int64), "axis_last": np.array([-1], np.int32),
             "pairs": np.array([[0, 3], [0, -1], [0, 0]], np.int64),
             "points": np.array([[[0, 1, 4, 5]], [[0, -3, 0, -1]]], np.int64)}
    return make(nodes, {"x": [1, 3, 5, 6]}, ["cs_channels", "cs_width", "rows", "points_out"],
                inits, opset=17)


def test_onnx_cumsum_and_gather_nd_equal_onnxruntime():
    x = RNG.standard_normal((1, 3, 5, 6)).astype(np.float32)
    graph = check_model(onnx_model(), [x])
    assert kinds(graph).count("CUMSUM") == 2 and kinds(graph).count("GATHER_ND") == 2, \
        kinds(graph)


@pytest.mark.parametrize("attrs, index_init, needle", [
    (dict(batch_dims=1), True, "batch_dims 1 is not supported"),
    ({}, False, "must be a constant"),
])
def test_onnx_gather_nd_refusals(attrs, index_init, needle):
    inits = {"idx": np.array([[0, 1]], np.int64)} if index_init else {}
    ins = {"x": [2, 3, 4]} if index_init else {"x": [2, 3, 4], "idx": [1, 2]}
    model = make([helper.make_node("GatherND", ["x", "idx"], ["y"], **attrs)], ins, ["y"], inits)
    with pytest.raises(ModelError, match=needle):
        load_onnx(model)


def test_torch_cumsum_equals_torch():
    torch = pytest.importorskip("torch")
    import toolchain

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x):
            c = self.conv(x)
            return torch.cumsum(c, dim=1), torch.cumsum(c, dim=-1), torch.cumsum(x, 0)

    torch.manual_seed(0)
    net = Net().eval()
    x = torch.randn(2, 3, 5, 6)
    graph = toolchain.load(net, (x,))
    assert [op.kind for op in graph.ops].count("CUMSUM") == 3, [op.kind for op in graph.ops]
    got = run_graph(graph, [x.numpy().transpose(0, 2, 3, 1)])   # fitml's input is NHWC
    with torch.no_grad():
        want = [t.numpy().transpose(0, 2, 3, 1) for t in net(x)]   # rank-4 outputs NHWC too
    for k, (w, a) in enumerate(zip(want, got)):
        np.testing.assert_allclose(np.asarray(a).reshape(w.shape), w, atol=1e-5, err_msg=str(k))
