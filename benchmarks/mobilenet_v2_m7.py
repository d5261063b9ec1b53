"""The PyTorch-converted MobileNetV2 (../shared/models/tflm, NCHW input + TRANSPOSE, 18 explicit
PADs before VALID convs) on Cortex-M7: issue 14's acceptance case for canonical graphs.

Prints the ops left in the compiled schedule, the exact instruction count under QEMU (one
inference on the shared dog image, about a minute), instructions per MAC, top-1 (258, Samoyed)
and bit-exactness against the reference; `--layout model` keeps the NCHW input (and its
TRANSPOSE), the default `nhwc` feeds NHWC (`fitml verify --input-layout nhwc`).
`--per-op` adds each layer's instructions, run as a one-op graph with the layout choice of the
whole model (which layers kept their pre-widened DSP weights in the 4 MB flash).

    .venv/bin/python benchmarks/mobilenet_v2_m7.py [--layout nhwc|model] [--per-op]
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "models" / "tflm"
MODEL = SHARED / "mobilenet_v2_pytorch_int8_224.tflite"
DOG = SHARED / "mobilenet_v2_sample_dog_int8.npy"         # top-1 258 (Samoyed)


def per_op(graph, target: str) -> None:
    """Each op of the schedule as a one-op graph under QEMU, with the model's layouts."""
    from toolchain.backends.c import lower
    from toolchain.backends.clayouts import layout_bytes
    from toolchain.backends.cmemory import caller_input_bytes
    from toolchain.ir import Graph
    from toolchain.lowering.cvariant import plain_layouts
    from toolchain.ops import registry
    from toolchain.ops.registry import Node
    from toolchain.plan.regions import layout_for
    from toolchain.targets import load_target
    from toolchain.verify.executors import get_executor

    tgt = load_target(target)
    low = lower(graph, layout=layout_for(tgt, taken=caller_input_bytes(graph, tgt)),
                variant=tgt.kernel_variant)
    g, rng = low.graph, np.random.default_rng(0)
    kept = {op.outputs[0] for op, c in zip(g.ops, low.calls) if layout_bytes(c)}
    print("| # | op | output | MACs | instructions | per MAC | DSP layout |\n"
          "|---:|---|---|---:|---:|---:|---|")
    for i, op in enumerate(g.ops):
        if op.kind in ("RESHAPE", "SQUEEZE"):
            continue        # an alias of its input: no instructions
        names = [n for n in op.inputs if n]
        ins = [n for n in names if not g.tensors[n].is_const]
        one = Graph.build([g.tensors[n] for n in names] + [g.tensors[n] for n in op.outputs],
                          [op], ins, list(op.outputs))
        xs = [rng.integers(-128, 128, g.tensors[n].shape).astype(np.int8) for n in ins]
        with plain_layouts([] if op.outputs[0] in kept else list(op.outputs)):
            n = get_executor("qemu")(one, xs, target=target).stats["instructions"]
        macs = registry.get(op.kind).macs(Node.of(g, op))
        print(f"| {i} | {op.kind} | {list(g.tensors[op.outputs[0]].shape)} | {macs:,} | "
              f"{n:,} | {n / macs if macs else 0:.2f} | {op.outputs[0] in kept} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", default="nhwc", choices=["nhwc", "model"])
    ap.add_argument("--target", default="cortex-m7")
    ap.add_argument("--per-op", action="store_true")
    args = ap.parse_args()
    from toolchain.api import load, verify
    from toolchain.backends.c import lower
    from toolchain.ops.interpreter import run_graph

    graph = load(MODEL, input_layout=None if args.layout == "model" else "nhwc")
    dog = np.load(DOG)
    x = dog if args.layout == "model" else np.ascontiguousarray(dog.transpose(0, 2, 3, 1))
    kinds = Counter(op.kind for op in lower(graph).graph.ops)
    print(f"- schedule: {dict(kinds)}")
    top1 = int(np.argmax(run_graph(graph, [x])[0]))
    rep = verify(graph, args.target, [x], random=0)
    st = rep["stats"]
    print(f"- {args.target}, input {args.layout}: {st['instructions']:,} instructions, "
          f"{st['macs']:,} MACs, {st['instructions'] / st['macs']:.3f} instr/MAC; top-1 {top1}; "
          f"bit-exact (host, QEMU, TFLM on the original file): {rep['bit_exact']}")
    if args.per_op:
        per_op(graph, args.target)


if __name__ == "__main__":
    main()
