"""The ONNX frontend on torch modules exported both ways (TorchScript and dynamo) and at older
opsets: the reference and LiteRT equal onnxruntime."""
from __future__ import annotations

import io

import numpy as np
import pytest

from onnx_cases import check_model, kinds

torch = pytest.importorskip("torch")
nn = torch.nn


class CnnBn(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.MaxPool2d(2), nn.Conv2d(8, 12, 3, stride=2),
                                  nn.BatchNorm2d(12), nn.ReLU6(), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten(), nn.Linear(12, 5))

    def forward(self, x):
        return self.body(x)


class DepthwiseSeparable(nn.Module):
    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(6, 12, 3, stride=2, padding=1, groups=6)   # depth multiplier 2
        self.bn1 = nn.BatchNorm2d(12)
        self.pw = nn.Conv2d(12, 8, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)

    def forward(self, x):
        return torch.relu(self.bn2(self.pw(nn.functional.relu6(self.bn1(self.dw(x))))))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(8, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=1, dilation=1)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return torch.relu(x + self.bn(self.b(torch.relu(self.a(x)))))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 32), nn.BatchNorm1d(32), nn.ReLU(),
                                 nn.Dropout(0.3), nn.Linear(32, 16), nn.Tanh(),
                                 nn.Linear(16, 4), nn.Softmax(dim=-1))

    def forward(self, x):
        return self.net(x)


class HardSwishNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 6, 3, padding=1)
        self.d = nn.Conv2d(6, 6, 5, padding=2, groups=6)

    def forward(self, x):
        y = nn.functional.hardswish(self.c(x))
        return nn.functional.hardsigmoid(self.d(y)) * y


class ConcatBranches(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(4, 5, 1)
        self.b = nn.Conv2d(4, 3, 3, padding=1)
        self.p = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x), self.p(x)], dim=1)
        return nn.functional.leaky_relu(y, 0.1), torch.sigmoid(y).mean(dim=(2, 3))


class FlattenAfterConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(2, 4, 3, stride=2, padding=(0, 1))
        self.p = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.fc = nn.Linear(4 * 3 * 4, 6)

    def forward(self, x):
        return self.fc(torch.flatten(self.p(self.c(x)), 1))


class Conv1dNet(nn.Module):
    """1-D convolutions and pools (audio style), chunk (Split) and indexing (Gather)."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(4, 8, 5, stride=2, padding=2)
        self.bn = nn.BatchNorm1d(8)
        self.dw = nn.Conv1d(8, 8, 3, padding=1, groups=8)

    def forward(self, x):
        y = nn.functional.max_pool1d(torch.relu(self.bn(self.c(x))), 2)
        a, b = torch.chunk(self.dw(y), 2, dim=1)
        z = nn.functional.avg_pool1d(a * torch.sigmoid(b), 3, stride=1, padding=1)
        return z[:, 1], z[:, :, 2:5]


TORCH_CASES = {"cnn_bn": (CnnBn, (1, 3, 16, 16)),
               "depthwise_separable": (DepthwiseSeparable, (1, 6, 9, 10)),
               "residual": (Residual, (1, 8, 7, 7)), "mlp": (Mlp, (1, 20)),
               "hardswish": (HardSwishNet, (1, 3, 8, 8)),
               "concat_branches": (ConcatBranches, (1, 4, 6, 6)),
               "flatten_after_conv": (FlattenAfterConv, (1, 2, 9, 11)),
               "conv1d": (Conv1dNet, (1, 4, 20))}


def randomize_bn(module, gen):
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.2)


def export(name: str, dynamo: bool, opset: int | None = None) -> tuple[bytes, np.ndarray]:
    cls, shape = TORCH_CASES[name]
    gen = torch.Generator().manual_seed(sum(map(ord, name)))
    torch.manual_seed(sum(map(ord, name)))
    module = cls().eval()
    with torch.no_grad():
        randomize_bn(module, gen)
    x = torch.randn(shape, generator=gen)
    f = io.BytesIO()
    if dynamo:
        torch.onnx.export(module, (x,), f, dynamo=True, optimize=False, external_data=False,
                          verbose=False)
    else:
        torch.onnx.export(module, (x,), f, dynamo=False, do_constant_folding=False,
                          **({"opset_version": opset} if opset else {}))
    return f.getvalue(), x.numpy()


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_torch_export_equals_onnxruntime(name, dynamo):
    model, x = export(name, dynamo)
    graph = check_model(model, [x])
    assert "BatchNormalization" not in str(kinds(graph))
    if name in ("cnn_bn", "depthwise_separable", "residual", "mlp"):
        assert "MUL" not in kinds(graph), kinds(graph)   # BatchNorm folded away
    if name == "depthwise_separable":
        dw = next(op for op in graph.ops if op.kind == "DEPTHWISE_CONV_2D")
        assert dw.attr("depth_multiplier") == 2 and dw.attr("activation") == "RELU6"
    if name == "hardswish":
        assert "HARD_SWISH" in kinds(graph)


@pytest.mark.parametrize("opset", [11, 13, 17])
@pytest.mark.parametrize("name", ["mlp", "conv1d", "hardswish"])
def test_torch_export_older_opsets(name, opset):
    if name == "hardswish" and opset < 14:
        opset = 14   # HardSwish exists from opset 14
    model, x = export(name, False, opset)
    check_model(model, [x])
