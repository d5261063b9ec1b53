"""Executors that run generated C: `host` (gcc with ASan/UBSan) and `qemu` (Cortex-M, built by
qemu_build.py). Builds are cached (cbuild.py)."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..backends.c import emit_c
from ..backends.cstatus import describe_status
from ..errors import ToolchainMissing
from ..ir import Graph
from ..ops.interpreter import check_inputs
from ..targets import load_target
from . import qemu
from .cbuild import (PREFIX, ExecutionError, digest, materialize, model_sources, read_outputs,
                     runtime_files)
from .elf import elf_sizes
from .harness import EXIT_MODEL
from .profile import Profile, spans
from .qemu_build import build_qemu_layout, scheduled_ops
from .registry import RunResult, executor

HOST_FLAGS = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pedantic",
              "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
              "-fno-omit-frame-pointer"]

def build_host(graph: Graph, steps: int = 1, resets=()) -> Path:
    """The host executable: `steps` invokes per run, the state reset before those in
    `resets` (each input / output file holds one blob per invoke)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise ToolchainMissing("host gcc not found: run ./setup.sh")
    files = emit_c(graph, PREFIX, "host", extra={"harness/host_main.c.j2": "main.c"},
                   steps=steps, resets=resets)
    out, done = materialize(files, digest(files, "host", *HOST_FLAGS))
    exe = out / "model_host"
    if done:
        return exe
    include, sources = runtime_files(files=files)
    cmd = [gcc, *HOST_FLAGS, f"-I{include}", f"-I{out}", *map(str, model_sources(out)),
           str(out / "main.c"), *map(str, sources), "-o", str(exe), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ExecutionError(f"host build failed:\n{proc.stderr[-4000:]}")
    (out / "DONE").write_text("ok\n")
    return exe


@executor("host")
def run_host(graph: Graph, inputs, **_) -> RunResult:
    return RunResult(_run_host(graph, [check_inputs(graph, inputs)])[0])


def sequence_blobs(graph: Graph, steps) -> tuple[list[bytes], int, list[int]]:
    """A sequence (input lists; None: reset the state) as one blob per input, the number of
    invokes and the invokes the state is reset before."""
    runs, resets = [], []
    for step in steps:
        if step is None:
            resets.append(len(runs))
        else:
            runs.append(check_inputs(graph, step))
    blobs = [b"".join(np.ascontiguousarray(r[i]).tobytes() for r in runs)
             for i in range(len(graph.inputs))]
    return blobs, len(runs), [k for k in resets if 0 < k < len(runs)]


def split_outputs(graph: Graph, blobs: list[bytes], count: int) -> list[list[np.ndarray]]:
    """Per invoke, the outputs of a sequence run's output blobs."""
    sizes = [graph.tensors[n].nbytes for n in graph.outputs]
    return [read_outputs(graph, [b[k * n:(k + 1) * n] for b, n in zip(blobs, sizes)])
            for k in range(count)]


def run_host_sequence(graph: Graph, steps) -> list[list[np.ndarray]]:
    """The outputs of every invoke of `steps` (input lists; None: reset) in one host process."""
    blobs, count, resets = sequence_blobs(graph, steps)
    return _run_host(graph, blobs, count, resets, raw=True)


def _run_host(graph: Graph, args, steps: int = 1, resets=(), raw: bool = False):
    exe = build_host(graph, steps, resets)
    if not raw:
        args = [np.ascontiguousarray(a).tobytes() for a in args[0]]
    with tempfile.TemporaryDirectory(prefix="fitml-host-") as tmp:
        ins = [Path(tmp) / f"in{i}.bin" for i in range(len(args))]
        outs = [Path(tmp) / f"out{i}.bin" for i in range(len(graph.outputs))]
        for path, value in zip(ins, args):
            path.write_bytes(value)
        proc = subprocess.run([str(exe), *map(str, ins), *map(str, outs)], capture_output=True,
                              text=True, timeout=600)
        if proc.returncode != 0:
            failed = re.search(rf"{PREFIX}_invoke returned (\d+)", proc.stderr)
            why = describe_status(int(failed.group(1)), (exe.parent / f"{PREFIX}.c").read_text()
                                  ) + "\n" if failed else ""
            raise ExecutionError(f"host run failed (exit {proc.returncode}): {why}"
                                 f"{proc.stderr[-4000:]}")
        return split_outputs(graph, [p.read_bytes() for p in outs], steps)


@executor("qemu")
def run_qemu(graph: Graph, inputs, target=None, timeout: float = 300.0, profile: bool = False,
             **_) -> RunResult:
    """Run on the target's QEMU machine; stats: instructions, stack and ELF sizes, and with
    `profile` the per-op Profile of a profile build (stats["profile"])."""
    args = check_inputs(graph, inputs)
    elf, tgt, layout = build_qemu_layout(graph, target or "cortex-m4", profile=profile)
    result = qemu.run_elf(elf, tgt, [np.ascontiguousarray(a).tobytes() for a in args],
                          len(graph.outputs), timeout=timeout, profile=profile)
    if result.exit_code != 0:
        why = describe_status(result.status, (elf.parent / f"{PREFIX}.c").read_text()) \
            if result.exit_code == EXIT_MODEL and result.status else result.fault()
        raise ExecutionError(f"QEMU run on {tgt.name} failed (exit {result.exit_code}): "
                             f"{why or result.stdout[-2000:]}")
    sizes = elf_sizes(elf, tgt)
    stats = {"target": tgt.name, "instructions": result.instructions,
             "stack_bytes": result.stack_bytes, "text": sizes.text, "rodata": sizes.rodata,
             "data": sizes.data, "bss": sizes.bss}
    if profile:
        try:
            ops, harness = spans(result.marks or [], scheduled_ops(graph, tgt, layout))
        except ValueError as exc:
            raise ExecutionError(str(exc)) from None
        clock = load_target(target or "cortex-m4").clock_hz
        stats["profile"] = Profile(tgt.name, tgt.core, clock, ops, harness)
    return RunResult(read_outputs(graph, result.outputs), stats)


def run_qemu_sequence(graph: Graph, steps, target=None,
                      timeout: float = 300.0) -> list[list[np.ndarray]]:
    """The outputs of every invoke of `steps` (input lists; None: reset the state) in one run
    on the target's QEMU machine."""
    blobs, count, resets = sequence_blobs(graph, steps)
    elf, tgt, _ = build_qemu_layout(graph, target or "cortex-m4", steps=count, resets=resets)
    result = qemu.run_elf(elf, tgt, blobs, len(graph.outputs), timeout=timeout)
    if result.exit_code != 0:
        raise ExecutionError(f"QEMU run on {tgt.name} failed (exit {result.exit_code}): "
                             f"{result.fault() or result.stdout[-2000:]}")
    return split_outputs(graph, result.outputs, count)
