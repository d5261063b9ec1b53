"""One-op test lab: build a single-op graph, run it in the reference and in TFLM, compare.

Op tests `import oplab` (pytest puts tests/ on sys.path, as tests/ has no __init__.py):

    x = oplab.act("x", (1, 8, 8, 3), scale=0.05, zp=-3)
    w = oplab.const("w", w_int8, scale=s_w, axis=0)          # per-channel
    out = oplab.out_like("CONV_2D", [x, w, None], attrs, scale=0.1, zp=2)
    graph = oplab.one_op("CONV_2D", [x, w, None], attrs, out)
    oplab.check_tflm(graph, rng)                              # or litert=True
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from toolchain.backends.tflite import write_tflite
from toolchain.ir import Graph, Op, QuantParams, Tensor
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph

QUANTIZED = ("int8", "uint8", "int16", "int4")
DEFAULT_SCALE = {"int8": 0.05, "uint8": 0.05, "int16": 1.0 / 4096, "int4": 0.5}


def act(name: str, shape, dtype: str = "int8", scale: float | None = None,
        zp: int | None = None) -> Tensor:
    """An activation; quantized per tensor for int dtypes (default scale, zp 0), else float."""
    quant = None
    if dtype in QUANTIZED or scale is not None:
        quant = QuantParams(DEFAULT_SCALE.get(dtype, 1.0) if scale is None else scale,
                            0 if zp is None else zp)
    return Tensor(name, tuple(shape), dtype, quant=quant)


def const(name: str, array, scale=None, zp=None, axis: int | None = None,
          dtype: str | None = None) -> Tensor:
    """A constant; per-axis quantized when `scale` is an array and `axis` is given.

    `dtype` overrides the numpy dtype (e.g. "int4" for int8 values in [-8, 7]).
    """
    data = np.asarray(array)
    dtype = dtype or str(data.dtype)
    quant = None
    if scale is not None:
        scale = np.asarray(scale, np.float32)
        zps = np.zeros(scale.size, np.int64) if zp is None else np.asarray(zp, np.int64)
        quant = QuantParams(scale, zps, axis)
    return Tensor(name, data.shape, dtype, data=data, quant=quant)


def one_op(kind: str, inputs: Sequence[Tensor | None], attrs: dict | None,
           out: Tensor | Sequence[Tensor]) -> Graph:
    """A validated graph holding one op; non-constant inputs become graph inputs."""
    outs = [out] if isinstance(out, Tensor) else list(out)
    tensors, graph_inputs = {}, []
    for t in inputs:
        if t is not None and t.name not in tensors:
            tensors[t.name] = t
            if not t.is_const:
                graph_inputs.append(t.name)
    for t in outs:
        tensors[t.name] = t
    op = Op(kind, [t.name if t is not None else "" for t in inputs], [t.name for t in outs],
            attrs or {})
    return Graph.build(tensors.values(), [op], graph_inputs, [t.name for t in outs]).validate()


def out_like(kind: str, inputs: Sequence[Tensor | None], attrs: dict | None,
             name: str = "out", scale: float | None = None, zp: int | None = None):
    """Output tensor(s) with the shape and dtype the registry infers (a list if several)."""
    names = [name]
    op = Op(kind, [t.name if t is not None else "" for t in inputs], names, attrs or {})
    inferred = registry.get(kind).infer(op, list(inputs))
    if len(inferred) > 1:
        names = [f"{name}{i}" for i in range(len(inferred))]
    outs = [act(n, shape, dtype, scale, zp) if dtype in QUANTIZED
            else act(n, shape, dtype)
            for n, (shape, dtype) in zip(names, inferred)]
    return outs[0] if len(outs) == 1 else outs


def random_inputs(graph: Graph, rng: np.random.Generator) -> list[np.ndarray]:
    """Arrays for the graph inputs: the full integer range, or standard normal floats."""
    arrays = []
    for name in graph.inputs:
        t = graph.tensors[name]
        if t.dtype == "float32":
            arrays.append(rng.standard_normal(t.shape).astype(np.float32))
        elif t.dtype == "bool":
            arrays.append(rng.integers(0, 2, t.shape).astype(np.bool_))
        elif t.dtype in ("int32", "int64"):
            arrays.append(rng.integers(-1000, 1001, t.shape).astype(t.dtype))
        else:
            info = np.iinfo(t.dtype)
            arrays.append(rng.integers(info.min, info.max + 1, t.shape).astype(t.dtype))
    return arrays


def run_reference_and_tflm(graph: Graph, inputs: Sequence[np.ndarray]):
    """(reference outputs, TFLM outputs of the written .tflite)."""
    from toolchain.verify.tflm import run_tflm

    return run_graph(graph, inputs), run_tflm(write_tflite(graph), inputs)


def run_litert_too(graph: Graph, inputs: Sequence[np.ndarray]):
    """(reference, TFLM, LiteRT outputs), all from one written .tflite."""
    from toolchain.verify.litert import run_litert
    from toolchain.verify.tflm import run_tflm

    model = write_tflite(graph)
    return run_graph(graph, inputs), run_tflm(model, inputs), run_litert(model, inputs)


def mismatch_report(expected: np.ndarray, actual: np.ndarray, limit: int = 200) -> str:
    """Every mismatching index with both values (listing truncated after `limit` lines)."""
    bad = np.argwhere(expected != actual)
    lines = [f"{len(bad)} of {expected.size} elements differ (index: expected, actual)"]
    for idx in bad[:limit]:
        i = tuple(int(k) for k in idx)
        lines.append(f"  {i}: {expected[i].item()!r}, {actual[i].item()!r}")
    if len(bad) > limit:
        lines.append(f"  ... and {len(bad) - limit} more")
    return "\n".join(lines)


def assert_exact(expected, actual, label: str = "") -> None:
    """Integer arrays equal element for element; the failure lists every mismatch."""
    expected, actual = np.asarray(expected), np.asarray(actual)
    where = f"{label}: " if label else ""
    if expected.shape != actual.shape:
        raise AssertionError(f"{where}shape {actual.shape} != expected {expected.shape}")
    if expected.dtype != actual.dtype:
        raise AssertionError(f"{where}dtype {actual.dtype} != expected {expected.dtype}")
    if not np.array_equal(expected, actual):
        raise AssertionError(where + mismatch_report(expected, actual))


def assert_close(expected, actual, atol: float = 1e-5, label: str = "") -> None:
    """Float arrays equal within `atol`; the failure lists every index outside it."""
    expected, actual = np.asarray(expected), np.asarray(actual)
    where = f"{label}: " if label else ""
    if expected.shape != actual.shape:
        raise AssertionError(f"{where}shape {actual.shape} != expected {expected.shape}")
    far = ~np.isclose(actual, expected, rtol=0, atol=atol)
    if far.any():
        raise AssertionError(where + f"beyond atol={atol}: "
                             + mismatch_report(np.where(far, expected, 0),
                                               np.where(far, actual, 0)))


def check_tflm(graph: Graph, rng: np.random.Generator, litert: bool = False,
               atol: float = 1e-5) -> list[np.ndarray]:
    """Random inputs -> reference vs TFLM (and LiteRT): exact for ints, `atol` for floats."""
    inputs = random_inputs(graph, rng)
    results = run_litert_too(graph, inputs) if litert else run_reference_and_tflm(graph, inputs)
    ref = results[0]
    for executor, outs in zip(("tflm", "litert"), results[1:]):
        assert len(outs) == len(ref), f"{executor}: {len(outs)} outputs, expected {len(ref)}"
        for i, (want, got) in enumerate(zip(ref, outs)):
            got = np.asarray(got).reshape(want.shape)
            if want.dtype.kind == "f":
                assert_close(want, got, atol, f"{executor} output {i}")
            else:
                assert_exact(want, got, f"{executor} output {i}")
    return ref
