"""One speed table: every shared int8 model at two flash budgets, beside TFLite Micro + CMSIS-NN.

For each model (Cortex-M4; MobileNetV2, PyTorch-converted, on Cortex-M7 with --mobilenet, slow)
and each flash budget — the core's full flash, and the .tflite file's size + 12 KB (what the
model itself takes in a TFLM build, plus a little) — the model is built for a core target with
that flash (`fitml verify --target cortex-m4 --flash SIZE`: the DSP layouts that fit beside the
harness's measured code are kept, the most instructions saved per byte first) and run under QEMU on the baseline's input (its
fixed LCG bytes; the dog image for MobileNetV2). Columns: instructions (exact), instructions
per MAC, cycles ESTIMATED from the instruction mix (verify/cycles.py: the core's timing table,
zero-wait memory), the flash split (code = the ELF's flash minus the model's arrays; int8
weights with their int32 biases; pre-widened layouts; per-channel parameters), TFLM + CMSIS-NN's instructions
(../shared/baselines/TFLM_CORTEX_M4.md) and fitml's share of them, and bit-exactness against
the reference. Prints one Markdown table.

    .venv/bin/python benchmarks/speed.py [--models kws,vww] [--mobilenet] [--budgets full,tight]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from c_backend_m4 import MODELS, SHARED, array_bytes, baseline, lcg_inputs  # noqa: E402
from toolchain import api  # noqa: E402
from toolchain.backends.c import c_context, lower  # noqa: E402
from toolchain.lowering.ccall import CArray  # noqa: E402
from toolchain.ops.interpreter import run_graph  # noqa: E402
from toolchain.verify.qemu_build import build_qemu_layout, emulation_target  # noqa: E402
from toolchain.verify.executors import get_executor  # noqa: E402

MOBILENET = ("mobilenet_v2", "tflm/mobilenet_v2_pytorch_int8_224.tflite", "cortex-m7",
             "tflm/mobilenet_v2_sample_dog_int8.npy")
SLACK = 12 * 1024            # the tight budget: the .tflite's bytes + 12 KB


def mobilenet_baseline() -> int | None:
    """TFLM + CMSIS-NN's instructions for MobileNetV2 on Cortex-M7 (the dog image)."""
    path = SHARED / "baselines" / "TFLM_CORTEX_M4.md"
    for line in path.read_text().splitlines() if path.exists() else []:
        if line.startswith("| instructions / Invoke"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            return int(cells[4].replace(",", ""))
    return None


def flash_split(graph, emu, layout) -> dict[str, int]:
    """Bytes of the model's int8 weights, pre-widened layouts and per-channel parameters as
    the harness build on the emulated target with `layout` emits them (its DSP layouts chosen
    for that flash)."""
    low = lower(graph, "model", layout=layout, variant=emu.kernel_variant, core=emu.core)
    c_context(low, emu.name, "")
    layouts = {id(c.params["filter_dsp"]) for c in low.calls if isinstance(c.params, dict)
               and isinstance(c.params.get("filter_dsp"), CArray)}
    split = {"int8": sum(low.graph.tensors[t].nbytes for t in low.weights), "layouts": 0,
             "params": 0}
    for arr in (a for _, a in low.arrays.values()):
        key = "layouts" if id(arr) in layouts else "int8" if arr.role == "weights" else "params"
        split[key] += arr.values.nbytes
    return split


def measure(name: str, path: Path, core: str, flash: int | None, inputs) -> dict:
    graph = api.load(path)
    target = api.target_with(core, None, flash)
    qemu = get_executor("qemu")
    try:
        run = qemu(graph, inputs, target=target, timeout=3600)
        prof = qemu(graph, inputs, target=target, profile=True, timeout=3600)
    except Exception as exc:                      # e.g. does not link in that flash
        return {"error": str(exc).splitlines()[0][:140]}
    st = run.stats
    elf, emu, layout = build_qemu_layout(graph, target)
    flash_used = st["text"] + st["rodata"] + st["data"]
    split = flash_split(graph, emu, layout)
    exact = all(np.array_equal(a, b) for a, b in zip(run_graph(graph, inputs), run.outputs))
    return {"instructions": st["instructions"], "macs": api.inspect(graph)["macs"],
            "cycles": prof.stats["profile"].total_cycles, "flash": flash_used,
            "code": flash_used - array_bytes(elf, emu.code_region), **split, "exact": exact}


def row(name, core, budget, flash, r, tflm) -> str:
    if "error" in r:
        return f"| {name} | {core} | {budget} | {flash} | error: {r['error']} |" + " |" * 10
    ratio = f"{r['instructions'] / tflm:.2f}x" if tflm else "-"
    return (f"| {name} | {core} | {budget} | {flash} | {r['instructions']:,} | "
            f"{r['instructions'] / r['macs']:.2f} | {r['cycles']:,.0f} | {r['flash']:,} | "
            f"{r['code']:,} | {r['int8']:,} | {r['layouts']:,} | {r['params']:,} | "
            f"{tflm or 0:,} | {ratio} | {'yes' if r['exact'] else 'NO'} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--mobilenet", action="store_true",
                    help="also MobileNetV2 (PyTorch-converted) on Cortex-M7: slow")
    ap.add_argument("--budgets", default="full,tight", help="full, tight (.tflite + 12 KB)")
    args = ap.parse_args()
    base = baseline()
    jobs = [(key, SHARED / "models" / MODELS[key], "cortex-m4", None,
             base.get(key, {}).get("insns_cmsis")) for key in args.models.split(",")]
    if args.mobilenet:
        name, rel, core, sample = MOBILENET
        jobs.append((name, SHARED / "models" / rel, core, SHARED / "models" / sample,
                     mobilenet_baseline()))
    print("| model | core | flash budget | flash B | instructions | insn/MAC | est. cycles | "
          "flash used B | code B | int8 weights B | layouts B | params B | TFLM+CMSIS-NN insns "
          "| fitml / TFLM | bit-exact |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|")
    ratios: dict[str, list] = {"full": [], "tight": []}
    for name, path, core, sample, tflm in jobs:
        graph = api.load(path)
        inputs = [np.load(sample)] if sample else lcg_inputs(graph)
        for budget in args.budgets.split(","):
            flash = None if budget == "full" else path.stat().st_size + SLACK
            label = "full" if flash is None else ".tflite + 12 KB"
            shown = f"{emulation_target(core).code_region.size:,}" if flash is None \
                else f"{flash:,}"
            r = measure(name, path, core, flash, inputs)
            print(row(name, core, label, shown, r, tflm), flush=True)
            if tflm and "error" not in r:
                ratios.setdefault(budget, []).append((name, r["instructions"] / tflm))
    print(summary(ratios))


def summary(ratios: dict[str, list]) -> str:
    """One sentence per budget: the range of fitml / TFLM over the models, and each model's."""
    lines = []
    for budget, label in (("full", "the whole flash"), ("tight", "the .tflite's size + 12 KB")):
        found = ratios.get(budget)
        if not found:
            continue
        each = ", ".join(f"{n} {r:.2f}x" for n, r in found)
        lo, hi = min(r for _, r in found), max(r for _, r in found)
        lines.append(f"With {label}: {lo:.2f}-{hi:.2f}x TFLM + CMSIS-NN's instructions ({each}).")
    return "\n" + "\n".join(lines) if lines else ""


if __name__ == "__main__":
    main()
