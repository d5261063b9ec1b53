"""A float MobileNetV2-1.0 (224x224, 1000 classes) in plain PyTorch, random weights.

The real architecture (Sandler et al. 2018, torchvision's layout): a 3x3 stride-2 stem, 17
inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1 linear projection, identity shortcut
when shapes allow), a 1x1 conv to 1280 channels, global average pooling and a 1000-way linear
classifier; BatchNorm after every conv, ReLU6 activations. Built without torchvision (it does
not import here) and without downloads: the weights are seeded random values with BatchNorm
statistics set so activations stay in a realistic range.
"""
from __future__ import annotations

import torch
from torch import nn

# (expansion t, output channels c, repeats n, first stride s), width multiplier 1.0
SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1)]


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
            relu6: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if relu6:
        layers.append(nn.ReLU6(inplace=False))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.shortcut = stride == 1 and cin == cout
        layers = [conv_bn(cin, hidden, 1)] if expand != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden),
                   conv_bn(hidden, cout, 1, relu6=False)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        y = self.body(x)
        return x + y if self.shortcut else y


class MobileNetV2(nn.Module):
    def __init__(self, classes: int = 1000):
        super().__init__()
        blocks, cin = [conv_bn(3, 32, 3, 2)], 32
        for t, c, n, s in SETTINGS:
            for i in range(n):
                blocks.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        blocks.append(conv_bn(cin, 1280, 1))
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x):
        x = self.features(x).mean((2, 3))
        return self.classifier(x)


def mobilenet_v2(seed: int = 0) -> MobileNetV2:
    """MobileNetV2-1.0 in eval mode with seeded weights (He-initialised convs, BatchNorm
    running statistics near the identity, so activations neither vanish nor explode)."""
    gen = torch.Generator().manual_seed(seed)
    model = MobileNetV2()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen)
                               * (2.0 / fan_in) ** 0.5)
            elif isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(1.0 + 0.1 * torch.randn(n, generator=gen))
                m.bias.copy_(0.1 * torch.randn(n, generator=gen))
                m.running_mean.copy_(0.05 * torch.randn(n, generator=gen))
                m.running_var.copy_(1.0 + 0.2 * torch.rand(n, generator=gen))
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen)
                               * (1.0 / m.in_features) ** 0.5)
                m.bias.copy_(0.01 * torch.randn(m.out_features, generator=gen))
    return model.eval()


def example_input(seed: int = 0, batch: int = 1) -> torch.Tensor:
    """A seeded NCHW image batch in [-1, 1] (MobileNetV2's usual input range)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand((batch, 3, 224, 224), generator=gen) * 2.0 - 1.0


def calibration_nhwc(count: int, seed: int = 1):
    """`count` seeded images as one float32 NHWC numpy array, the layout fitml's graph takes."""
    return example_input(seed, count).permute(0, 2, 3, 1).contiguous().numpy()
