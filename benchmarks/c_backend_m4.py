"""Costs of fitml's generated C for every shared int8 model, per core, beside TFLite Micro.

Prints a Markdown table per core: MACs, instructions per inference (exact, QEMU TCG plugin),
instructions per MAC, TFLM + CMSIS-NN's instructions on Cortex-M4 (../shared/baselines/
TFLM_CORTEX_M4.md), their ratio and whether fitml stays within half of them (issue 9's
target), runtime code bytes (the ELF's text + rodata + data without the weight and parameter
arrays: runtime, generated schedule, harness and libc, as the baseline's "text w/o model"),
the bytes of the arrays only the DSP kernels read (their flash cost), total flash, arena, RAM,
stack, bit-exactness against the numpy reference, and the instructions the scratch-free
kernels cost (vs the same build keeping every kernel's scratch: a larger arena, beside it).
Input: the baseline's fixed LCG bytes.
`--per-op` adds each layer's instructions, run as a one-op graph.

    .venv/bin/python benchmarks/c_backend_m4.py [--cores cortex-m4,cortex-m55] [--models kws]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"

from toolchain.verify.baseline_inputs import lcg_inputs  # noqa: E402  (re-exported)
MODELS = {
    "kws": "mlperf_tiny/kws/kws_ref_model_int8.tflite",
    "vww": "mlperf_tiny/vww/vww_96_int8.tflite",
    "ic": "mlperf_tiny/ic/pretrainedResnet_quant.tflite",
    "ad": "mlperf_tiny/ad/ad01_int8.tflite",
    "micro_speech": "tflm/micro_speech_quantized.tflite",
    "hello_world_int8": "tflm/hello_world_int8.tflite",
    "mnist_lstm_int8": "tflm/mnist_lstm_int8.tflite",
}
DSP_FIELDS = ("filter_dsp", "fast_requant", "lut")   # parameters only the DSP kernels read




def baseline() -> dict[str, dict]:
    """TFLM + CMSIS-NN instructions, arena and code per model, parsed from the baseline table."""
    path = SHARED / "baselines" / "TFLM_CORTEX_M4.md"
    rows = {}
    if not path.exists():
        return rows
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 8 and cells[0] in MODELS:
            num = lambda c: int(re.sub(r"[^\d]", "", c) or 0)   # noqa: E731
            rows[cells[0]] = {"insns_cmsis": num(cells[3]), "arena_cmsis":
                              num(cells[6].split("/")[1]), "code_cmsis":
                              num(cells[9].split("/")[1])}
    return rows


def array_bytes(elf: Path, region, prefix: str = "model") -> int:
    """Bytes of the generated weight and parameter arrays (<prefix>_w*, <prefix>_c*) that the
    ELF places in `region` (the main flash: .text/.rodata/.data; spilled ones live elsewhere)."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    pattern = re.compile(rf"^{prefix}_[wc]\d+$")
    return sum(int(p[1], 16) for p in (ln.split() for ln in out.splitlines())
               if len(p) == 4 and pattern.match(p[3])
               and region.base <= int(p[0], 16) < region.end)


def dsp_bytes(lowered) -> int:
    """Flash of the arrays only the DSP kernels read (the cost of their layouts)."""
    from toolchain.lowering.ccall import CArray
    return sum(v.values.nbytes for call in lowered.calls for k, v in call.params.items()
               if k in DSP_FIELDS and isinstance(v, CArray))


def per_op(graph, target: str) -> None:
    """Each layer's instructions as a one-op graph (includes the harness's input copy)."""
    from toolchain.ir import Graph
    from toolchain.ops import registry
    from toolchain.ops.registry import Node
    from toolchain.verify.executors import get_executor
    rng = np.random.default_rng(0)
    for i, op in enumerate(graph.ops):
        node = Node.of(graph, op)
        if registry.get(op.kind).lower_c(node).alias_of is not None:
            continue
        ins = [t.name for t in node.ins if t is not None and not t.is_const]
        sub = Graph.build([t for t in node.ins if t is not None] + list(node.outs), [op], ins,
                          [t.name for t in node.outs])
        xs = [rng.integers(-128, 128, graph.tensors[n].shape).astype(np.int8) for n in ins]
        insns = get_executor("qemu")(sub, xs, target=target).stats["instructions"]
        macs = registry.get(op.kind).macs(node)
        per = f"{insns / macs:.2f}" if macs else "-"
        print(f"| {i} | {op.kind} | {list(node.outs[0].shape)} | {macs:,} | {insns:,} | {per} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", "--target", default="cortex-m4",
                    help="comma-separated cores, e.g. cortex-m4,cortex-m7,cortex-m33,cortex-m55")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--per-op", action="store_true", help="also list each layer's instructions")
    ap.add_argument("--readme", action="store_true",
                    help="one table, a column per core: instructions (insn/MAC), bit-exact")
    args = ap.parse_args()
    if args.readme:
        return pivot(args.cores.split(","), args.models.split(","))
    from toolchain import api
    from toolchain.backends.c import c_context, lower
    from toolchain.backends.cmemory import scratch_free
    from toolchain.verify.cbuild import variant_for
    from toolchain.verify.qemu_build import build_qemu, emulation_target
    from toolchain.verify.executors import get_executor
    from toolchain.ops.interpreter import run_graph
    base = baseline()
    for core in args.cores.split(","):
        variant = variant_for(emulation_target(core))
        print(f"\nfitml generated C on {core} ({variant} kernels; QEMU, exact instruction "
              "counts; TFLM + CMSIS-NN measured on cortex-m4)\n")
        print("| model | MACs | instructions | insn/MAC | TFLM+CMSIS-NN insns | ratio | <= half "
              "| code B | TFLM code B | DSP arrays B | flash B | arena B | TFLM arena B | RAM B "
              "| stack B | bit-exact | arena --memory small B | insns --memory small |")
        print("|---|---:|---:|---:|---:|---:|:-:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|---:"
              "|---:|")
        for key in args.models.split(","):
            graph = api.load(SHARED / "models" / MODELS[key])
            inputs = lcg_inputs(graph)
            try:
                run = get_executor("qemu")(graph, inputs, target=core)
            except Exception as exc:          # e.g. a model that does not fit the machine
                print(f"| {key} | error: {str(exc).splitlines()[0][:120]} |")
                continue
            exact = all(np.array_equal(a, b)
                        for a, b in zip(run_graph(graph, inputs), run.outputs))
            st, macs = run.stats, api.inspect(graph)["macs"]
            low = lower(graph, variant=variant_for(emulation_target(core)))
            arena = c_context(low, core, "")["arena_size"]
            flash = st["text"] + st["rodata"] + st["data"]
            elf, emu = build_qemu(graph, core)
            code = flash - array_bytes(elf, emu.code_region)
            b = base.get(key, {})
            ratio = f"{b['insns_cmsis'] / st['instructions']:.2f}x" if b else "-"
            half = ("yes" if 2 * st["instructions"] <= b["insns_cmsis"] else "NO") if b else "-"
            ram = st["data"] + st["bss"] + st["stack_bytes"]
            with scratch_free(True):        # --memory small: the smallest arena, its cost
                small = get_executor("qemu")(graph, inputs, target=core)
                small_arena = lower(graph, variant=variant).plan.arena_size
            exact &= all(np.array_equal(a, b)
                         for a, b in zip(run_graph(graph, inputs), small.outputs))
            print(f"| {key} | {macs:,} | {st['instructions']:,} | {st['instructions'] / macs:.2f} "
                  f"| {b.get('insns_cmsis', 0):,} | {ratio} | {half} | {code:,} "
                  f"| {b.get('code_cmsis', 0):,} | {dsp_bytes(low):,} | {flash:,} | {arena:,} "
                  f"| {b.get('arena_cmsis', 0):,} | {ram:,} | {st['stack_bytes']:,} "
                  f"| {'yes' if exact else 'NO'} | {small_arena:,} "
                  f"| {small.stats['instructions']:,} |")
            if args.per_op:
                print(f"\n{key} per layer on {core}:\n\n| op | kind | output | MACs "
                      "| instructions | insn/MAC |\n|---|---|---|---:|---:|---:|")
                per_op(graph, core)
                print()


def pivot(cores: list[str], models: list[str]) -> None:
    """README's table: a row per model, a column per core with its instructions (insn/MAC),
    marked if the outputs differ from the reference; then the first core's arena with the
    fastest kernels and with --memory small."""
    from toolchain import api
    from toolchain.backends.c import c_context, lower
    from toolchain.backends.cmemory import scratch_free
    from toolchain.ops.interpreter import run_graph
    from toolchain.verify.cbuild import variant_for
    from toolchain.verify.executors import get_executor
    from toolchain.verify.qemu_build import emulation_target
    names = [f"{c} ({variant_for(emulation_target(c))}) insns (insn/MAC)" for c in cores]
    print("| model | " + " | ".join(names) + f" | {cores[0]} arena B | arena --memory small B |")
    print("|---|" + "---:|" * (len(cores) + 2))
    for key in models:
        graph = api.load(SHARED / "models" / MODELS[key])
        inputs, macs = lcg_inputs(graph), api.inspect(graph)["macs"]
        want = run_graph(graph, inputs)
        cells = []
        for core in cores:
            run = get_executor("qemu")(graph, inputs, target=core)
            n = run.stats["instructions"]
            exact = all(np.array_equal(a, b) for a, b in zip(want, run.outputs))
            cells.append(f"{n:,} ({n / macs:.2f})" + ("" if exact else " NOT bit-exact"))
        variant = variant_for(emulation_target(cores[0]))
        arena = c_context(lower(graph, variant=variant), cores[0], "")["arena_size"]
        with scratch_free(True):
            small = lower(graph, variant=variant).plan.arena_size
        print(f"| {key} | " + " | ".join(cells) + f" | {arena:,} | {small:,} |", flush=True)

if __name__ == "__main__":
    main()
