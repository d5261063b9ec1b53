"""Verification ladder steps 3 and 4 on the real models: generated C on the host (ASan/UBSan)
and on Cortex-M under QEMU equals the numpy reference exactly (float: within 1e-5)."""
from __future__ import annotations

import numpy as np
import pytest

from models import FLOAT_MODELS, INT8_MODELS, random_inputs, sample_inputs
from oplab import assert_exact
from toolchain.frontends.tflite import load_tflite
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

RANDOM = range(10)
EXTRA_CORES = ["cortex-m0", "cortex-m3", "cortex-m7", "cortex-m33"]
FLOAT_C = ["hello_world_float", "kws_float"]
_GRAPHS: dict = {}


def graph_of(model):
    if model.key not in _GRAPHS:
        if not model.path.exists():
            pytest.fail(f"shared model missing: {model.path} (the tests read ../shared/models "
                        "beside the checkout)")
        _GRAPHS[model.key] = load_tflite(model.path)
    return _GRAPHS[model.key]


def cases_of(model, graph, count=len(RANDOM)):
    return sample_inputs(model, graph) + [random_inputs(graph, 100 + s) for s in range(count)]


def check_exact(graph, cases, executor, label, **options):
    run = get_executor(executor)
    for i, inputs in enumerate(cases):
        expected = run_graph(graph, inputs)
        got = run(graph, inputs, **options).outputs
        for k, (e, g) in enumerate(zip(expected, got)):
            assert_exact(e, g, f"{label} {executor} case {i} output {k}")


@pytest.mark.parametrize("executor", ["host", "qemu"])
@pytest.mark.parametrize("model", INT8_MODELS, ids=lambda m: m.key)
def test_int8_models_bit_exact(model, executor):
    graph = graph_of(model)
    opts = {"target": "cortex-m4"} if executor == "qemu" else {}
    check_exact(graph, cases_of(model, graph), executor, model.key, **opts)


@pytest.mark.parametrize("core", EXTRA_CORES)
@pytest.mark.parametrize("key", ["kws", "ic"])
def test_kws_ic_on_other_cores(key, core):
    model = next(m for m in INT8_MODELS if m.key == key)
    graph = graph_of(model)
    check_exact(graph, cases_of(model, graph, 2), "qemu", f"{key}@{core}", target=core)


@pytest.mark.parametrize("executor", ["host", "qemu"])
@pytest.mark.parametrize("key", FLOAT_C)
def test_float_models_close(key, executor):
    model = next(m for m in FLOAT_MODELS if m.key == key)
    graph = graph_of(model)
    run = get_executor(executor)
    for inputs in cases_of(model, graph, 3):
        expected = run_graph(graph, inputs)
        got = run(graph, inputs).outputs
        for e, g in zip(expected, got):
            span = max(float(np.ptp(e)), float(np.abs(e).max()), 1e-6)
            err = float(np.abs(e - g).max()) / span
            assert err <= 1e-5, f"{key} {executor}: error {err:.3g} of the output range"


def test_qemu_reports_costs():
    model = next(m for m in INT8_MODELS if m.key == "kws")
    graph = graph_of(model)
    inputs = random_inputs(graph, 0)
    a = get_executor("qemu")(graph, inputs, target="cortex-m4").stats
    b = get_executor("qemu")(graph, inputs, target="cortex-m4").stats
    assert a["instructions"] == b["instructions"] > 1_000_000
    assert 0 < a["stack_bytes"] < 16384
    assert a["text"] > 0 and a["rodata"] > 20_000
