"""Every executor by name (`get_executor`): the reference, TFLM and LiteRT ones here, host
and qemu in cexec.py, all with registry.py's calling convention.

Tests are parametrized over these names; the CLI's `--executor` picks one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..backends.tflite import write_tflite
from ..errors import ModelError
from ..ir import Graph
from ..ops import interpreter as reference
from ..passes.input_layout import layout_info
from ..passes.partition import unpartition
from . import cexec  # registers the host and qemu executors
from .litert import run_litert, run_litert_default
from .registry import RunResult, executor, get_executor, names  # noqa: F401  (the API)
from .tflm import run_tflm, run_tflm_sequence


def _source(graph: Graph) -> Path | None:
    src = graph.metadata.get("path")
    if graph.metadata.get("format") == "tflite" and src and Path(src).is_file():
        return Path(src)
    return None


def tflite_bytes(graph: Graph) -> bytes:
    """The flatbuffer to hand an oracle: the source file when the graph was read from one."""
    src = _source(graph)
    if src is not None:
        return src.read_bytes()
    return write_tflite(unpartition(graph))    # patch-based stages: the ops they run


def _oracle_inputs(graph: Graph, args: list) -> list:
    """`args` as the oracle's model takes them: when that is the source file, the inputs
    --input-layout nhwc made NHWC go back to the file's NCHW."""
    info = layout_info(graph)
    if info is None or _source(graph) is None:
        return args
    nhwc = {c["input"] for c in info["inputs"]}
    return [np.ascontiguousarray(np.asarray(a).transpose(0, 3, 1, 2)) if name in nhwc else a
            for name, a in zip(graph.inputs, args)]


@executor("reference")
def run_reference(graph: Graph, inputs: Sequence[np.ndarray], **_) -> RunResult:
    return RunResult(reference.run_graph(graph, inputs))


def _isolated(target, model: bytes, inputs, arrays: bool = True):
    """Run an oracle interpreter in a child process: a crash there must not kill fitml.
    `inputs` go as arrays, or as they are (`arrays=False`: a sequence of input lists)."""
    import multiprocessing  # lazy: ~30 ms of imports (sockets, logging) a `check` never uses
    from concurrent.futures import ProcessPoolExecutor  # lazy: as multiprocessing
    from concurrent.futures.process import BrokenProcessPool  # lazy: as multiprocessing
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        future = pool.submit(target, model, [np.asarray(x) for x in inputs] if arrays
                             else list(inputs))
        try:
            return future.result()
        except BrokenProcessPool:
            raise ModelError(f"{target.__module__} crashed on this model") from None
        except Exception as exc:
            raise ModelError(f"interpreter failed: {exc}") from None


def _cast_inputs(graph: Graph, inputs):
    return _oracle_inputs(graph, reference.check_inputs(graph, inputs))


@executor("tflm")
def run_tflm_executor(graph: Graph, inputs, isolate: bool = True, **_) -> RunResult:
    model, args = tflite_bytes(graph), _cast_inputs(graph, inputs)
    outs = _isolated(run_tflm, model, args) if isolate else run_tflm(model, args)
    return RunResult(outs)


@executor("litert")
def run_litert_executor(graph: Graph, inputs, isolate: bool = True, **_) -> RunResult:
    """LiteRT as a phone runs it: default resolver, optimized kernels, XNNPACK (not bit-exact
    with the reference: a few LSB on some inputs)."""
    model, args = tflite_bytes(graph), _cast_inputs(graph, inputs)
    run = run_litert_default
    return RunResult(_isolated(run, model, args) if isolate else run(model, args))


@executor("litert-reference")
def run_litert_reference_executor(graph: Graph, inputs, isolate: bool = True,
                                  **_) -> RunResult:
    """LiteRT's reference kernels: bit-exact with TFLite Micro and fitml's reference."""
    model, args = tflite_bytes(graph), _cast_inputs(graph, inputs)
    outs = _isolated(run_litert, model, args) if isolate else run_litert(model, args)
    return RunResult(outs)


def run_sequence(name: str, graph: Graph, steps, target=None) -> list[list[np.ndarray]]:
    """A stateful run: the outputs of each step of `steps` (input lists; None resets the
    state) on executor `name` ("reference", "tflm", "host", "qemu" on `target`), the state
    kept from one invoke to the next as a deployed model keeps it."""
    if name == "reference":
        return reference.run_sequence(graph, steps)
    if name == "tflm":
        seq = [None if s is None else _cast_inputs(graph, s) for s in steps]
        return _isolated(run_tflm_sequence, tflite_bytes(graph), seq, arrays=False)
    if name == "host":
        return cexec.run_host_sequence(graph, steps)
    if name == "qemu":
        return cexec.run_qemu_sequence(graph, steps, target)
    raise ValueError(f"no stateful run on executor {name!r} (reference, tflm, host, qemu)")
