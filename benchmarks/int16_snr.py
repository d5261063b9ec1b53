"""What 16x8 (int16 activations, int8 weights) buys on the bundled MNIST example.

Quantizes examples/mnist_cnn.onnx with its calibration images (examples/mnist_calib.npy) three
ways — int8 activations with float outputs, every 16x8-capable layer in int16 with float
outputs, and the same with int8 outputs — and scores each against the float model on the
held-out images (examples/mnist_val.npz) as `fitml compile --val` does: output SNR, top-1
agreement, and the activation arena of the C build for cortex-m4. Prints a Markdown table.

    .venv/bin/python benchmarks/int16_snr.py
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EX = REPO / "examples"

from toolchain import api  # noqa: E402

CASES = (("int8 activations, float outputs", {"io": "float"}),
         ("16x8 (--int16 all), float outputs", {"io": "float", "int16": "all"}),
         ("16x8 (--int16 all), int8 outputs", {"io": "int8", "int16": "all"}))


def compiled(options: dict, out: Path) -> dict:
    """`fitml compile mnist_cnn.onnx --target cortex-m4 --calib ... --val ...` with `options`:
    its report, accuracy included."""
    return api.compile(EX / "mnist_cnn.onnx", "cortex-m4", out, calib=EX / "mnist_calib.npy",
                       val=EX / "mnist_val.npz", progress=False, **options)


def main() -> None:
    print("| quantization | held-out images | output SNR dB | top-1 agreement % | arena B |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, args) in enumerate(CASES):
            rep = compiled(args, Path(tmp) / f"c{i}")
            acc = rep["accuracy"]
            print(f"| {label} | {acc['samples']} | {acc['output_snr_db'][0]:.1f} | "
                  f"{100 * acc['top1_agreement']:.1f} | {rep['arena_bytes']:,} |",
                  flush=True)


if __name__ == "__main__":
    main()
