"""PyTorch frontend errors and entry points: an unsupported op names the aten op, the node and
the supported list; unconvertible patterns raise clear ModelErrors; .pt2 files load through the
API and `fitml inspect` (an unsupported op exits 2, an unreadable file is a ModelError); a module
torch.export cannot trace falls back to ONNX; the supported list covers the documented ops."""
from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = nn.functional

import toolchain  # noqa: E402
from cli_util import fitml, one_clear_line  # noqa: E402
from toolchain.errors import ModelError  # noqa: E402
from toolchain.frontends.torch_export import load_torch, supported  # noqa: E402
from toolchain.ops.interpreter import run_graph  # noqa: E402
from torch_modules import assert_close, build, kinds, nhwc, torch_outputs  # noqa: E402


class Cumprod(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1)

    def forward(self, x):
        return torch.cumprod(self.conv(x), dim=1)


def test_unsupported_op_names_op_node_and_supported_list():
    with pytest.raises(ModelError) as info:
        toolchain.load(Cumprod().eval(), (torch.randn(1, 2, 4, 4),))
    msg = str(info.value)
    assert "aten.cumprod.default" in msg and "'cumprod'" in msg
    assert "aten.convolution.default" in msg and "supported" in msg


@pytest.mark.parametrize("fn,needle", [
    (lambda x: torch.clamp(x, -2, 3), "clamp to [-2, 3]"),
    (lambda x: torch.div(x, x + 2, rounding_mode="trunc"), "rounding_mode='trunc'"),
    (lambda x: F.avg_pool2d(x, 2, 2, 1, count_include_pad=False), "SAME"),
])
def test_unconvertible_patterns_raise_clear_errors(fn, needle):
    class Fn(nn.Module):
        def forward(self, x):
            return fn(x)

    with pytest.raises(ModelError, match=needle.replace("[", r"\[")):
        toolchain.load(Fn(), (torch.randn(1, 2, 5, 5),))


def test_pt2_file_via_api_and_cli(tmp_path):
    module, x = build("branches")
    path = tmp_path / "model.pt2"
    torch.export.save(torch.export.export(module, (x,)), str(path))
    graph = toolchain.load(path)
    assert graph.metadata["frontend"] == "torch.export"
    assert_close(run_graph(graph, [nhwc(x)]), torch_outputs(module, x), "pt2")
    proc = fitml("inspect", path, "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["inputs"][0]["shape"] == [1, 6, 7, 3]
    assert [op["kind"] for op in info["ops"]] == kinds(graph)
    assert info["macs"] > 0


def test_pt2_unsupported_op_exits_2(tmp_path):
    path = tmp_path / "cumprod.pt2"
    x = torch.randn(1, 2, 4, 4)
    torch.export.save(torch.export.export(Cumprod().eval(), (x,)), str(path))
    proc = fitml("inspect", path)
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "aten.cumprod.default" in line and "cumprod.pt2" in line


def test_unreadable_pt2_is_a_model_error(tmp_path):
    bad = tmp_path / "bad.pt2"
    bad.write_bytes(b"not a zip archive")
    with pytest.raises(ModelError, match="bad.pt2"):
        load_torch(bad)


class DataDependent(nn.Module):
    """torch.export cannot trace a branch on a tensor value; ONNX tracing takes one path."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        if y.sum() > -1e9:
            y = F.relu(y)
        return y


def test_falls_back_to_onnx_when_export_fails():
    torch.manual_seed(3)
    module = DataDependent().eval()
    x = torch.randn(1, 3, 6, 6, generator=torch.Generator().manual_seed(4))
    graph = load_torch(module, (x,))       # torch.export refuses it; the ONNX path takes it
    assert graph.metadata["frontend"] == "torch.onnx"
    assert_close(run_graph(graph, [nhwc(x)]), torch_outputs(module, x), "onnx fallback")


def test_supported_list_covers_the_documented_ops():
    names = set(supported())
    for op in ("convolution", "linear", "addmm", "_native_batch_norm_legit_no_training",
               "relu", "clamp", "sigmoid", "tanh", "max_pool2d_with_indices", "avg_pool2d",
               "_adaptive_avg_pool2d", "cat", "view", "permute", "_softmax", "mean"):
        assert any(n.startswith(f"aten.{op}.") for n in names), op
