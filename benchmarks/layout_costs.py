"""Measure what the pre-widened DSP/MVE weight layouts save, and rewrite the cost table.

For each core, every shared int8 model runs twice under QEMU as a profile build (`fitml verify
--profile`: exact instructions per op), once with every layout the lowering offers and once
with none (every layer on its int8-weight path). Per kernel family (conv_1x1, conv,
depthwise_conv, fully_connected, lstm: lowering/layout_costs.family) the instructions of the
layers that carry a layout in the first build are summed in both builds and divided by their
MACs: insn/MAC of the int8 path and of the layout path. The table is written to
toolchain/lowering/layout_costs.json, which the layout choice (backends/clayouts.py) reads.
Rerun after changing a kernel (e.g. faster int8-weight kernels shrink the gains):

    .venv/bin/python benchmarks/layout_costs.py [--cores cortex-m4,cortex-m55] [--models kws]
"""
from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from c_backend_m4 import MODELS, SHARED, lcg_inputs  # noqa: E402
from toolchain import api  # noqa: E402
from toolchain.backends.c import lower  # noqa: E402
from toolchain.backends.clayouts import layout_bytes  # noqa: E402
from toolchain.lowering.cvariant import plain_layouts  # noqa: E402
from toolchain.lowering.layout_costs import SCHEMA, TABLE, family  # noqa: E402
from toolchain.verify.cexec import run_qemu  # noqa: E402
from toolchain.verify.qemu_build import emulation_target, harness_layout  # noqa: E402

CORES = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55")


def measure(graph, core: str) -> dict[str, dict]:
    """{family: {"int8": insns, "layout": insns, "macs": MACs, "layers": n}} of one model on
    one core, over the layers whose fast build carries a layout."""
    emu = emulation_target(core)
    inputs = lcg_inputs(graph)
    low = lower(graph, "model", layout=harness_layout(emu, graph), variant=emu.kernel_variant)
    fast = run_qemu(graph, inputs, target=core, profile=True).stats["profile"]
    with plain_layouts(list(graph.tensors)):
        slow = run_qemu(graph, inputs, target=core, profile=True).stats["profile"]
    sums: dict[str, dict] = {}
    for call, op, f, s in zip(low.calls, low.graph.ops, fast.ops, slow.ops):
        fam = family(op.kind, call.params)
        if not layout_bytes(call) or fam is None or not f.macs:
            continue
        row = sums.setdefault(fam, {"int8": 0, "layout": 0, "macs": 0, "layers": 0})
        row["int8"] += s.instructions
        row["layout"] += f.instructions
        row["macs"] += f.macs
        row["layers"] += 1
    return sums


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", default=",".join(CORES))
    ap.add_argument("--models", default="kws,vww,ic,ad,micro_speech,mnist_lstm_int8")
    ap.add_argument("--out", default=str(TABLE), help=f"default: {TABLE}")
    ap.add_argument("--fresh", action="store_true",
                    help="drop the cores not measured now (default: keep them from --out)")
    args = ap.parse_args()
    out = Path(args.out)
    old = json.loads(out.read_text()) if out.is_file() and not args.fresh else {}
    cores: dict[str, dict] = dict(old.get("cores", {}))
    for core in args.cores.split(","):
        totals: dict[str, dict] = {}
        for key in args.models.split(","):
            graph = api.load(SHARED / "models" / MODELS[key])
            for fam, row in measure(graph, core).items():
                t = totals.setdefault(fam, {"int8": 0, "layout": 0, "macs": 0, "layers": 0,
                                            "models": []})
                for k in ("int8", "layout", "macs", "layers"):
                    t[k] += row[k]
                t["models"].append(key)
            print(f"{core} {key}: done", file=sys.stderr)
        cores[core] = {fam: {"int8": round(t["int8"] / t["macs"], 4),
                             "layout": round(t["layout"] / t["macs"], 4), "macs": t["macs"],
                             "layers": t["layers"], "models": ",".join(t["models"])}
                       for fam, t in sorted(totals.items())}
    gcc = subprocess.run(["arm-none-eabi-gcc", "-dumpversion"], capture_output=True,
                         text=True).stdout.strip()
    table = {"schema": SCHEMA, "generated_by": "benchmarks/layout_costs.py",
             "date": datetime.date.today().isoformat(), "arm_none_eabi_gcc": gcc,
             "method": "insn/MAC under QEMU (exact counts, profile builds, the baseline's LCG "
                       "input) of the layers carrying a layout, with it (layout) and without "
                       "(int8)", "cores": cores}
    table["cores"] = dict(sorted(cores.items()))
    out.write_text(json.dumps(table, indent=1) + "\n")
    for core in args.cores.split(","):
        fams = cores[core]
        for fam, row in fams.items():
            print(f"{core:11s} {fam:16s} int8 {row['int8']:.3f}  layout {row['layout']:.3f}  "
                  f"insn/MAC saved {row['int8'] - row['layout']:.3f}  ({row['layers']} layers)")


if __name__ == "__main__":
    main()
