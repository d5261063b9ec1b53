"""PyTorch modules built here for the torch frontend tests (tests/test_torch_frontend_*.py):
conv-BN stacks, depthwise-separable, residual, MLP, branches, flatten heads, pools, slicing and
splitting, two inputs, activations, stack/unbind; seeded instances with non-trivial BatchNorm
statistics and their example inputs, torch's outputs in NHWC, and the 1e-4 comparison."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = nn.functional

TOL = 1e-4


def randomize_bn(module: nn.Module, seed: int) -> nn.Module:
    """Non-trivial BatchNorm statistics, so folding them is actually tested."""
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(torch.rand(c, generator=g) * 2 - 1)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(c, generator=g) - 0.5)
    return module.eval()


class CnnBn(nn.Module):
    """conv-BN-ReLU, conv(no bias)-BN, a BN with no conv before it, Linear-BN1d."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 8, 3, stride=2, bias=False), nn.BatchNorm2d(8)
        self.b3 = nn.BatchNorm2d(8)
        self.fc, self.b4 = nn.Linear(8, 6), nn.BatchNorm1d(6)

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        y = self.b3(torch.sigmoid(y))
        return self.b4(self.fc(y.mean((2, 3))))


class DepthwiseSeparable(nn.Module):
    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=4)   # depth multiplier 2
        self.bn = nn.BatchNorm2d(8)
        self.pw = nn.Conv2d(8, 6, 1)
        self.dw2 = nn.Conv2d(6, 6, 3, padding=2, dilation=2, groups=6)

    def forward(self, x):
        y = F.relu6(self.bn(self.dw(x)))
        return torch.clamp(self.dw2(F.relu6(self.pw(y))), -1, 1)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.down = nn.Conv2d(8, 12, 1, stride=2)
        self.c3 = nn.Conv2d(8, 12, 3, stride=2, padding=1)

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = F.relu(self.b2(self.c2(y)) + x)
        return F.relu(self.c3(y) + self.down(y)) * 0.5 - 1.0


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(20, 32), nn.Linear(32, 16), nn.Linear(16, 5)

    def forward(self, x):
        y = torch.tanh(self.l2(F.relu(self.l1(x))))
        return torch.softmax(self.l3(y) / 2.0, dim=-1), torch.sigmoid(y)


class Branches(nn.Module):
    """Inception-like concat on channels, then on width; channel softmax; constant pad."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 1), nn.Conv2d(3, 5, 3, padding=1)
        self.c = nn.Conv2d(3, 3, 5, padding=2, bias=False)

    def forward(self, x):
        y = torch.cat([self.a(x), F.relu(self.b(x)), self.c(x)], dim=1)
        y = torch.cat([y, y * 2], dim=3)
        return torch.softmax(F.pad(y, (1, 2, 0, 1), value=0.5), dim=1)


class FlattenHead(nn.Module):
    """Flatten of an NCHW conv output needs NHWC -> NCHW first."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 5, 3)
        self.fc = nn.Linear(5 * 4 * 6, 7)

    def forward(self, x):
        y = F.relu(self.conv(x))
        return self.fc(torch.flatten(y, 1)), y.reshape(1, 5, 24).permute(0, 2, 1)


class Pools(nn.Module):
    """max/avg pooling with SAME-like, explicit, ceil-mode and count_include_pad padding."""

    def forward(self, x):
        outs = [F.max_pool2d(x, 2), F.max_pool2d(x, 3, 2, 1),
                F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
                F.max_pool2d(x, 2, 2, ceil_mode=True), F.avg_pool2d(x, 3, 1, 1),
                F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
                F.avg_pool2d(x, 2, 2, ceil_mode=True), F.avg_pool2d(x, (3, 2), (2, 1)),
                F.adaptive_avg_pool2d(x, 1), F.adaptive_avg_pool2d(x, (3, 1))]
        return tuple(o.flatten(1) for o in outs)


class Misc(nn.Module):
    """Conv1d, grouped conv, hardsigmoid, slicing and splitting, squeeze, rsub, transposes."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 6, 3, stride=2, padding=1)
        self.g = nn.Conv2d(4, 6, 3, groups=2, padding=1)

    def forward(self, x):
        seq = self.c1(x.mean(2))                                   # [1, 6, 4]
        y = F.hardsigmoid(self.g(x))
        a, b = torch.split(y, [2, 4], dim=1)
        z = a.mean(1, keepdim=True) - b[:, 1:3, :, ::2].mean(1, keepdim=True).mean(3, True)
        head = z.squeeze(1).transpose(1, 2)                        # [1, W, H]
        return seq, 1.0 - head, y.unsqueeze(0).squeeze(0)[:, :, 1:-1]


class TwoInputs(nn.Module):
    """An NCHW input and a 2-D one; view after global pooling; select; permuted output."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 4, padding="same")
        self.fc = nn.Linear(4, 2)

    def forward(self, x, y):
        z = F.relu(self.conv(x), inplace=True)
        pooled = F.adaptive_avg_pool2d(z, 1).view(x.size(0), -1)
        return self.fc(pooled) * y, z[:, :, 0], x.permute(0, 2, 3, 1)


class Activations(nn.Module):
    """HARD_SWISH and LEAKY_RELU ops (when fitml has them), SiLU as LOGISTIC + MUL."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        y = F.hardswish(self.conv(x))
        return F.leaky_relu(y, 0.1), F.silu(y) * 4 - 1


class StackUnbind(nn.Module):
    """unbind and stack (torch.export decomposes them to slices, views and cat) on an
    NHWC-stored and on a plain value."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        y = self.conv(x)
        a, b, c = y.unbind(1)
        return torch.stack([a, b * 2, c], dim=3), torch.stack(x.unbind(2), dim=0)


MODELS = {
    "stack_unbind": (StackUnbind, (1, 3, 4, 5)),
    "cnn_bn": (CnnBn, (1, 3, 12, 12)),
    "depthwise_separable": (DepthwiseSeparable, (1, 4, 10, 9)),
    "residual": (Residual, (1, 8, 8, 8)),
    "mlp": (Mlp, (3, 20)),
    "branches": (Branches, (1, 3, 6, 7)),
    "flatten_head": (FlattenHead, (1, 2, 6, 8)),
    "pools": (Pools, (1, 3, 9, 8)),
    "misc": (Misc, (1, 4, 6, 8)),
    "activations": (Activations, (1, 3, 6, 6)),
    "two_inputs": (TwoInputs, (2, 3, 8, 7), (2, 2)),
}


def build(name: str, seed: int = 0):
    """(module, example inputs) for MODELS[name]; a single input is returned bare."""
    cls, *shapes = MODELS[name]
    torch.manual_seed(seed)
    module = randomize_bn(cls(), seed)
    xs = tuple(torch.randn(*shape, generator=torch.Generator().manual_seed(seed + 1 + i))
               for i, shape in enumerate(shapes))
    return module, (xs[0] if len(xs) == 1 else xs)


def as_tuple(x) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def nhwc(x: torch.Tensor) -> np.ndarray:
    a = x.detach().numpy()
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)) if a.ndim == 4 else a


def torch_outputs(module, x) -> list[np.ndarray]:
    with torch.no_grad():
        out = module(*as_tuple(x))
    return [nhwc(o) for o in (out if isinstance(out, tuple) else (out,))]


def assert_close(got, want, what: str):
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, f"{what} output {i}: shape {g.shape} != {w.shape}"
        np.testing.assert_allclose(g, w, rtol=TOL, atol=TOL, err_msg=f"{what} output {i}")


def kinds(graph) -> list[str]:
    return [op.kind for op in graph.ops]
