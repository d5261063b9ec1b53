"""Costs of fitml's generated C for every shared int8 model on one core, beside TFLite Micro.

Prints a Markdown table: MACs, instructions per inference (exact, QEMU TCG plugin), instructions
per MAC, arena bytes, flash bytes (text + rodata + data of the whole ELF), RAM bytes
(data + bss + measured stack), stack bytes, and TFLM + CMSIS-NN's instructions and arena from
../shared/baselines/TFLM_CORTEX_M4.md where present. Input: the baseline's fixed LCG byte stream.

    .venv/bin/python benchmarks/c_backend_m4.py [--target cortex-m4] [--models kws,vww]
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"
MODELS = {
    "kws": "mlperf_tiny/kws/kws_ref_model_int8.tflite",
    "vww": "mlperf_tiny/vww/vww_96_int8.tflite",
    "ic": "mlperf_tiny/ic/pretrainedResnet_quant.tflite",
    "ad": "mlperf_tiny/ad/ad01_int8.tflite",
    "micro_speech": "tflm/micro_speech_quantized.tflite",
    "hello_world_int8": "tflm/hello_world_int8.tflite",
}


def lcg_inputs(graph):
    """The baseline's input: s = s*1103515245 + 12345, byte = (s >> 16) & 0xff, seed 12345."""
    s, out = 12345, []
    for name in graph.inputs:
        t = graph.tensors[name]
        data = bytearray()
        for _ in range(t.nbytes):
            s = (s * 1103515245 + 12345) & 0xFFFFFFFF
            data.append((s >> 16) & 0xFF)
        out.append(np.frombuffer(bytes(data), np.int8).reshape(t.shape))
    return out


def baseline() -> dict[str, dict]:
    """TFLM + CMSIS-NN instructions and arena per model, parsed from the baseline table."""
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="cortex-m4")
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    from toolchain import api
    from toolchain.backends.c import c_context, lower
    from toolchain.verify.executors import get_executor
    from toolchain.verify.reference import run_graph
    base = baseline()
    print(f"fitml generated C on {args.target} (QEMU, exact instruction counts)\n")
    print("| model | MACs | instructions | insn/MAC | TFLM+CMSIS-NN insns | ratio | arena B "
          "| TFLM arena B | flash B | RAM B | stack B | bit-exact |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|")
    for key in args.models.split(","):
        graph = api.load(SHARED / "models" / MODELS[key])
        inputs = lcg_inputs(graph)
        run = get_executor("qemu")(graph, inputs, target=args.target)
        exact = all(np.array_equal(a, b) for a, b in zip(run_graph(graph, inputs), run.outputs))
        st, macs = run.stats, api.inspect(graph)["macs"]
        arena = c_context(lower(graph), args.target, "")["arena_size"]
        b = base.get(key, {})
        ratio = f"{b['insns_cmsis'] / st['instructions']:.2f}x" if b else "-"
        flash = st["text"] + st["rodata"] + st["data"]
        ram = st["data"] + st["bss"] + st["stack_bytes"]
        print(f"| {key} | {macs:,} | {st['instructions']:,} | {st['instructions'] / macs:.2f} | "
              f"{b.get('insns_cmsis', 0):,} | {ratio} | {arena:,} | {b.get('arena_cmsis', 0):,} "
              f"| {flash:,} | {ram:,} | {st['stack_bytes']:,} | {'yes' if exact else 'NO'} |")


if __name__ == "__main__":
    main()
