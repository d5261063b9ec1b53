"""Verification ladder step 2: fitml's numpy reference vs TFLite Micro on the real models."""
from __future__ import annotations

import numpy as np
import pytest

from models import FLOAT_MODELS, INT8_MODELS, random_inputs, sample_inputs
from oplab import assert_exact
from toolchain.frontends.tflite import load_tflite
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm

RANDOM_SEEDS = range(25)
_GRAPHS: dict = {}


def graph_of(model):
    if model.key not in _GRAPHS:
        if not model.path.exists():
            pytest.fail(f"shared model missing: {model.path} (the tests read ../shared/models "
                        "beside the checkout)")
        _GRAPHS[model.key] = (load_tflite(model.path), model.path.read_bytes())
    return _GRAPHS[model.key]


@pytest.mark.parametrize("model", INT8_MODELS, ids=lambda m: m.key)
def test_int8_reference_equals_tflm(model):
    graph, blob = graph_of(model)
    cases = sample_inputs(model, graph) + [random_inputs(graph, s) for s in RANDOM_SEEDS]
    assert len(cases) >= 25
    for i, inputs in enumerate(cases):
        ours = run_graph(graph, inputs)
        theirs = run_tflm(blob, inputs)
        for k, (a, b) in enumerate(zip(theirs, ours)):
            assert_exact(a, b, f"{model.key} case {i} output {k}")


@pytest.mark.parametrize("key", ["kws", "ic"])
def test_every_intermediate_tensor_equals_tflm(key):
    model = next(m for m in INT8_MODELS if m.key == key)
    graph, blob = graph_of(model)
    for inputs in sample_inputs(model, graph) + [random_inputs(graph, 99)]:
        values = run_graph(graph, inputs, keep_all=True)
        _, interp = run_tflm(blob, inputs, preserve_all=True)
        checked = 0
        for index, name in enumerate(graph.tensors):
            if graph.tensors[name].is_const:
                continue
            theirs = interp.GetTensor(index, 0)["tensor_data"]
            assert_exact(np.asarray(theirs).reshape(values[name].shape), values[name],
                         f"{key} tensor {index} {name[:60]!r}")
            checked += 1
        assert checked == len(graph.ops) + len(graph.inputs)


@pytest.mark.parametrize("model", FLOAT_MODELS, ids=lambda m: m.key)
def test_float_reference_close_to_litert(model):
    graph, blob = graph_of(model)
    cases = sample_inputs(model, graph) + [random_inputs(graph, s) for s in range(5)]
    for inputs in cases:
        ours = run_graph(graph, inputs)
        theirs = run_litert(blob, inputs)
        for a, b in zip(theirs, ours):
            span = max(float(np.max(a) - np.min(a)), float(np.max(np.abs(a))), 1e-6)
            err = float(np.max(np.abs(a - b))) / span
            assert err <= 1e-5, f"{model.key}: max error {err:.3g} of the output range"
