"""Patch-based partitioning on the shared vision/audio models: what it saves and what it costs.

For each model and input placement (inputs copied into the arena, or read in place from the
caller's buffer: `--input-buffer caller`), prints the layer-by-layer arena, the partitioned arena
the search reaches under a budget (default: the lowest it finds), the stages, the MAC overhead,
exact Cortex-M4 instructions under QEMU before and after, and whether the partitioned C is
bit-exact to the unpartitioned reference (sample input + one seeded random input).

    .venv/bin/python benchmarks/partition.py [--models vww,ic,kws] [--budget vww=27648]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "models"
MODELS = {"vww": ("mlperf_tiny/vww/vww_96_int8.tflite",
                  "mlperf_tiny/vww/vww_sample_int8_label1_person.npy"),
          "ic": ("mlperf_tiny/ic/pretrainedResnet_quant.tflite",
                 "mlperf_tiny/ic/ic_sample_int8_label0.npy"),
          "kws": ("mlperf_tiny/kws/kws_ref_model_int8.tflite",
                  "mlperf_tiny/kws/kws_sample_input_int8.npy")}


def row(key: str, caller: bool, budget: int | None) -> list[str]:
    from toolchain.backends.c import lower
    from toolchain.backends.cmemory import caller_inputs
    from toolchain.frontends.tflite import load_tflite
    from toolchain.backends.cpartition import search
    from toolchain.verify.executors import get_executor
    from toolchain.ops.interpreter import run_graph
    rel, sample = MODELS[key]
    graph = load_tflite(SHARED / rel)
    x = graph.tensors[graph.inputs[0]]
    cases = [np.load(SHARED / sample).astype(x.dtype).reshape(x.shape),
             np.random.default_rng(1).integers(-128, 128, x.shape).astype(x.dtype)]
    qemu = get_executor("qemu")
    with caller_inputs(caller):
        before = lower(graph).plan.arena_size
        part = search(graph, budget)
        if part is None:
            return [key, "caller" if caller else "arena", f"{before:,}", "none found"]
        exact = all(np.array_equal(run_graph(graph, [c])[0],
                                   qemu(part.graph, [c], target="cortex-m4").outputs[0])
                    for c in cases)
        insn0 = qemu(graph, [cases[0]], target="cortex-m4").stats["instructions"]
        insn1 = qemu(part.graph, [cases[0]], target="cortex-m4").stats["instructions"]
    stages = "; ".join(f"{s.first}..{s.last} {s.grid[0]}x{s.grid[1]}" for s in part.stages)
    return [key, "caller" if caller else "arena", f"{before:,}", f"{part.peak_after:,}",
            f"{x.nbytes if caller else 0:,}", stages, f"+{100 * part.overhead:.2f}%",
            f"{insn0:,}", f"{insn1:,}", f"+{100 * (insn1 - insn0) / insn0:.1f}%",
            "yes" if exact else "NO"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="vww,ic,kws")
    ap.add_argument("--budget", action="append", default=[], metavar="MODEL=BYTES",
                    help="arena budget for the search (default: the lowest peak it finds)")
    args = ap.parse_args()
    budgets = {k: int(v) for k, v in (b.split("=") for b in args.budget)}
    head = ["model", "inputs", "arena layer by layer B", "arena partitioned B",
            "caller input B", "stages (ops grid)", "MACs", "M4 insns before",
            "M4 insns after", "insns", "bit-exact"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" if i in (0, 1, 5, 10) else "---:" for i in range(len(head))) + "|")
    for key in args.models.split(","):
        for caller in (False, True):
            print("| " + " | ".join(row(key, caller, budgets.get(key))) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
