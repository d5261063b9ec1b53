"""Table kernels (toolchain/ops/lut_lowering.py) on Cortex-M4 under QEMU, before and after.

"before" lowers with the table rule switched off (every op's own fixed-point kernel), "after"
with the rule as shipped. Rows: int8 LOGISTIC, TANH, HARD_SWISH and LEAKY_RELU alone
(instructions per element, from the per-op profile of a 1024-element graph), the shared
mnist_lstm_int8 model and the GRU keyword model of tests/test_gru.py (total instructions per
inference, flash bytes). Every run is checked bit-exact against the reference. Prints one Markdown table.

    .venv/bin/python benchmarks/lut_speed.py
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

from c_backend_m4 import MODELS, SHARED  # noqa: E402
from toolchain import api  # noqa: E402
from toolchain.ir import Graph, Op, QuantParams, Tensor  # noqa: E402
from toolchain.ops import lut_lowering  # noqa: E402
from toolchain.ops.interpreter import run_graph  # noqa: E402
from toolchain.verify.executors import get_executor  # noqa: E402

N = 1024


@contextlib.contextmanager
def tables(on: bool):
    """Lower with the table rule (on) or with every op's own kernel (off)."""
    saved = dict(lut_lowering.MIN_ELEMENTS)
    if not on:
        lut_lowering.MIN_ELEMENTS.update({k: 1 << 40 for k in saved})
    try:
        yield
    finally:
        lut_lowering.MIN_ELEMENTS.update(saved)


def one_op(kind: str) -> Graph:
    s_out, zp_out = {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}.get(kind, (0.04, -5))
    x = Tensor("x", (1, N), "int8", quant=QuantParams(0.05, 3))
    y = Tensor("y", (1, N), "int8", quant=QuantParams(s_out, zp_out))
    attrs = {"alpha": 0.2} if kind == "LEAKY_RELU" else {}
    return Graph.build([x, y], [Op(kind, ["x"], ["y"], attrs)], ["x"], ["y"]).validate()


def run(graph: Graph, inputs, profile: bool = False):
    out = get_executor("qemu")(graph, inputs, target="cortex-m4", profile=profile, timeout=3600)
    exact = all(np.array_equal(a, b) for a, b in zip(run_graph(graph, inputs), out.outputs))
    return out.stats, exact


def per_element(kind: str, on: bool) -> tuple[float, bool]:
    graph = one_op(kind)
    x = np.random.default_rng(0).integers(-128, 128, (1, N)).astype(np.int8)
    with tables(on):
        stats, exact = run(graph, [x], profile=True)
    (span,) = [s for s in stats["profile"].ops if s.kind == kind]
    return span.instructions / N, exact


def kws_gru() -> Graph:
    from test_gru import kws_gru as build       # lazy: imports TensorFlow
    from toolchain.frontends.tflite import load_tflite
    return load_tflite(build("int8"))


def whole(graph: Graph, on: bool) -> tuple[int, int, bool]:
    x = [np.random.default_rng(1).integers(-128, 128, graph.tensors[n].shape)
         .astype(graph.tensors[n].dtype) for n in graph.inputs]
    with tables(on):
        stats, exact = run(graph, x)
    return stats["instructions"], stats["text"] + stats["rodata"] + stats["data"], exact


def main() -> None:
    print("| workload | before | after | speed-up | flash before | flash after | exact |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for kind in ("LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU"):
        (b, eb), (a, ea) = per_element(kind, False), per_element(kind, True)
        print(f"| int8 {kind}, instructions / element | {b:.1f} | {a:.1f} | {b / a:.0f}x | "
              f"- | - | {eb and ea} |")
    models = [("mnist_lstm_int8", api.load(SHARED / "models" / MODELS["mnist_lstm_int8"])),
              ("GRU keyword model (tests/test_gru.py)", kws_gru())]
    for name, graph in models:
        (b, fb, eb), (a, fa, ea) = whole(graph, False), whole(graph, True)
        print(f"| {name}, instructions | {b:,} | {a:,} | {b / a:.2f}x | {fb:,} | {fa:,} | "
              f"{eb and ea} |")


if __name__ == "__main__":
    main()
