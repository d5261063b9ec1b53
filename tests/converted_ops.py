"""Single-purpose models from TensorFlow's converter for op tests: float32, int8 and 16x8.

A test module builds each model once (module-scoped fixture) from a `tf.function` over float
inputs, loads it with fitml's .tflite reader, and checks that the numpy reference equals TFLite
Micro on the converter's file and on fitml's rewritten one, then that generated C equals the
reference on the host and under QEMU:

    model = converted_ops.build(fn, [(1, 4, 4, 8), (8,)], "int8", tmp_path_factory)
    converted_ops.check_tflm(model)
    converted_ops.check_c(model, "qemu", "cortex-m4")
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest

from oplab import assert_close, assert_exact
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph
from toolchain.ops.interpreter import run_graph
from toolchain.ops.quantize import quantize_float
from toolchain.verify.executors import get_executor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
MODES = ("float32", "int8", "16x8")
EXECUTORS = [("host", None), ("qemu", "cortex-m4"), ("qemu", "cortex-m0")]


@dataclass
class Model:
    graph: Graph
    blob: bytes
    cases: list            # input lists: from floats in the representative range, then random


def spec(s):
    """(shape, dtype name) of an input spec: a shape (float32) or ("bool", shape)."""
    return (tuple(s[1]), "bool") if s and s[0] == "bool" else (tuple(s), "float32")


def sample(rng, s, low: float, high: float) -> np.ndarray:
    shape, dtype = spec(s)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(np.bool_)
    return rng.uniform(low, high, shape).astype(np.float32)


def convert(fn, shapes, mode: str, low: float = -2.0, high: float = 2.0,
            dynamic_batch: bool = False) -> bytes:
    """The .tflite bytes TF's converter makes of `fn` over inputs of `shapes` (float32, or
    ("bool", shape) for a bool input); `dynamic_batch` traces a None first dimension (the
    converter then keeps ops like EXPAND_DIMS it folds into RESHAPE for static shapes)."""
    tf = pytest.importorskip("tensorflow")
    traced = [(None,) + spec(s)[0][1:] if dynamic_batch else spec(s)[0] for s in shapes]
    concrete = fn.get_concrete_function(*[tf.TensorSpec(t, getattr(tf, spec(s)[1]))
                                          for t, s in zip(traced, shapes)])
    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete], fn)
    if mode != "float32":
        rng = np.random.default_rng(0)

        def representative():
            for _ in range(16):
                yield [sample(rng, s, low, high) for s in shapes]
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        ops = tf.lite.OpsSet
        conv.target_spec.supported_ops = [
            ops.TFLITE_BUILTINS_INT8 if mode == "int8"
            else ops.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        conv.inference_input_type = conv.inference_output_type = (
            tf.int8 if mode == "int8" else tf.int16)
    return conv.convert()


def build(fn, shapes, mode: str, tmp_path_factory, low: float = -2.0, high: float = 2.0,
          seed: int = 0, dynamic_batch: bool = False) -> Model:
    """Convert, write the file (the reader takes a path), load; three realistic input sets
    and (quantized models) two over each input's full integer range."""
    blob = convert(fn, shapes, mode, low, high, dynamic_batch)
    path = tmp_path_factory.mktemp(f"conv_{mode}") / "model.tflite"
    path.write_bytes(blob)
    graph = load_tflite(str(path))
    rng = np.random.default_rng(seed)
    tensors = [graph.tensors[n] for n in graph.inputs]
    cases = []
    for _ in range(3):
        xs = [sample(rng, t.shape if t.dtype != "bool" else ("bool", t.shape), low, high)
              for t in tensors]
        cases.append([x if t.dtype in ("float32", "bool") else
                      quantize_float(x, t.quant.s, t.quant.zp, t.dtype)
                      for x, t in zip(xs, tensors)])
    if mode != "float32":
        for _ in range(2):
            cases.append([rng.integers(0, 2, t.shape).astype(np.bool_) if t.dtype == "bool"
                          else rng.integers(np.iinfo(t.dtype).min, np.iinfo(t.dtype).max + 1,
                                            t.shape).astype(t.dtype) for t in tensors])
    return Model(graph, blob, cases)


def assert_same(want, got, label: str, atol: float = 1e-6) -> None:
    """Integers exactly; float32 within `atol` (TFLM's libm and numpy may differ by an ulp)."""
    got = np.asarray(got).reshape(np.shape(want))
    if np.asarray(want).dtype.kind == "f":
        assert_close(want, got, atol, label)
    else:
        assert_exact(want, got, label)


def check_tflm(model: Model, atol: float = 1e-6, skip=()) -> None:
    """Reference == TFLM on the converter's file and on fitml's rewritten one (the outputs
    whose indexes are in `skip` left out)."""
    from toolchain.verify.tflm import run_tflm

    written = write_tflite(model.graph)
    for i, x in enumerate(model.cases):
        want = run_graph(model.graph, x)
        for tag, blob in (("converter", model.blob), ("written", written)):
            got = run_tflm(blob, x)
            assert len(got) == len(want), f"{tag}: {len(got)} outputs, expected {len(want)}"
            for k, (a, b) in enumerate(zip(want, got)):
                if k not in skip:
                    assert_same(a, b, f"{tag} case {i} output {k}", atol)


def check_c(model: Model, executor: str, target: str | None, atol: float = 1e-6) -> None:
    """Generated C (host, or QEMU on `target`) == the reference, every output."""
    run = get_executor(executor)
    kw = {} if target is None else dict(target=target)
    for i, x in enumerate(model.cases):
        want = run_graph(model.graph, x)
        got = run(model.graph, x, **kw).outputs
        for k, (a, b) in enumerate(zip(want, got)):
            assert_same(a, b, f"{executor} {target} case {i} output {k}", atol)


def kinds(model: Model) -> set[str]:
    return {op.kind for op in model.graph.ops}


def litert_default_outputs(model: Model, pool) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(index, reference output, LiteRT output) of the model's first case, the file fitml
    writes run by LiteRT's default (optimized) resolver in the `pool` fixture's process."""
    from toolchain.verify.litert import run_litert_default  # lazy: LiteRT's interpreter

    x = model.cases[0]
    got = pool.submit(run_litert_default, write_tflite(model.graph), x).result()
    return [(k, want, np.asarray(g).reshape(want.shape))
            for k, (want, g) in enumerate(zip(run_graph(model.graph, x), got))]
