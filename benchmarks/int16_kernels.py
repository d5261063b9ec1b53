"""Instructions of 16x8 (int16 activation) models on Cortex-M4: portable vs DSP int16 kernels.

Prints a Markdown table: MACs, instructions per inference with the portable `fitml_*_s16`
kernels (the same cortex-m4 build, its DSP feature dropped so every kernel is portable C) and
with the DSP ones (runtime_c/src/dsp/fitml_*_s16.c), instructions per MAC of each, and whether
both equal the numpy reference bit for bit. Models: the MNIST example quantized with every
layer in int16 (`fitml compile ... --int16 all`) and the tests' Keras 16x8 model
(tests/test_int16_converter.py, TensorFlow's converter). `--per-op` adds each weighted layer
as a one-op graph.

    .venv/bin/python benchmarks/int16_kernels.py [--per-op] [--no-keras]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def mnist():
    from toolchain import api
    ex = REPO / "examples"
    graph = api.quantize(str(ex / "mnist_cnn.onnx"), str(ex / "mnist_calib.npy"),
                         activations="int16", progress=False)
    return "MNIST example, --int16 all", graph, [np.load(ex / "mnist_sample_int8.npy")]


def keras():
    from test_int16_converter import keras_16x8
    from toolchain.frontends.tflite import load_tflite
    path = Path(tempfile.mkdtemp()) / "cnn_16x8.tflite"
    keras_16x8(path)
    graph = load_tflite(str(path))
    t = graph.tensors[graph.inputs[0]]
    x = np.random.default_rng(2).integers(-32768, 32768, t.shape).astype(np.int16)
    return "tests' Keras 16x8 CNN", graph, [x]


def macs(graph) -> int:
    from toolchain.ops import registry
    from toolchain.ops.registry import Node
    return sum(registry.get(op.kind).macs(Node.of(graph, op)) for op in graph.ops
               if hasattr(registry.get(op.kind), "macs"))


def run(graph, inputs, target):
    """(instructions, bit-exact) of one QEMU run."""
    from toolchain.verify.executors import get_executor
    from toolchain.ops.interpreter import run_graph
    res = get_executor("qemu")(graph, inputs, target=target)
    exact = all(np.array_equal(a, b) for a, b in zip(run_graph(graph, inputs), res.outputs))
    return res.stats["instructions"], exact


def row(name, graph, inputs, cores) -> str:
    n = macs(graph)
    (p, pe), (d, de) = (run(graph, inputs, c) for c in cores)
    return (f"| {name} | {n:,} | {p:,} | {d:,} | {p / n:.1f} -> {d / n:.1f} | {p / d:.2f}x | "
            f"{'yes' if pe and de else 'NO'} |")


def one_op_graphs(graph):
    """Each weighted op of `graph` alone, with seeded random int16 inputs."""
    import oplab
    from toolchain.ir import Graph
    rng = np.random.default_rng(0)
    for op in graph.ops:
        if op.kind in WEIGHTED and graph.tensors[op.inputs[0]].dtype == "int16":
            ts = [graph.tensors[n] for n in [*op.inputs, *op.outputs] if n]
            sub = Graph.build(ts, [op], [op.inputs[0]], list(op.outputs)).validate()
            w = graph.tensors[op.inputs[1]].shape
            yield f"{op.kind} {w}", sub, oplab.random_inputs(sub, rng)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-op", action="store_true")
    ap.add_argument("--no-keras", action="store_true")
    args = ap.parse_args()
    from toolchain.targets import load_target
    m4 = load_target("cortex-m4")
    portable = dataclasses.replace(m4, features=tuple(f for f in m4.features if f != "dsp"))
    cores = (portable, m4)
    print("| model | MACs | portable insns | DSP insns | insn/MAC | speed-up | bit-exact |")
    print("|---|---:|---:|---:|---:|---:|---|")
    models = [mnist] + ([] if args.no_keras else [keras])
    for make in models:
        name, graph, inputs = make()
        print(row(name, graph, inputs, cores), flush=True)
        if args.per_op:
            for op_name, sub, xs in one_op_graphs(graph):
                print(row(f"  {op_name}", sub, xs, cores), flush=True)


if __name__ == "__main__":
    main()
