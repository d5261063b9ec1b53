"""Partitioning the shared real models (vww, ic, kws): the search meets each RAM budget at a
small MAC overhead, and the partitioned graph equals the unsplit one in the reference, in host
C and under QEMU (each model's search runs once per module, `found`)."""
from __future__ import annotations


import pytest

from conftest import shared_model
from models import INT8_MODELS, random_inputs as model_inputs, sample_inputs
from oplab import assert_exact
from partition_cnns import needs_arm
from toolchain.frontends.tflite import load_tflite
from toolchain.backends.cpartition import arena_peak, search
from toolchain.passes.partition_search import total_macs
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph


_FOUND: dict = {}
BUDGETS = {"vww": 30_000, "ic": 32_767, "kws": 15_999}   # kws, ic: below the issue-4 bounds


def found(key: str):
    if key not in _FOUND:
        model = next(m for m in INT8_MODELS if m.key == key)
        graph = load_tflite(shared_model(model.rel))
        _FOUND[key] = (model, graph, search(graph, BUDGETS[key]))
    return _FOUND[key]


@pytest.mark.parametrize("key", ["vww", "ic", "kws"])
def test_real_models_partitioned_peak_and_reference(key):
    model, graph, part = found(key)
    assert part is not None, f"{key}: no partition within {BUDGETS[key]:,} B"
    assert part.peak_after <= BUDGETS[key] < part.peak_before == arena_peak(graph)
    assert part.peak_after == arena_peak(part.graph)
    assert part.macs_after == total_macs(part.graph) and part.overhead <= 0.15
    cases = sample_inputs(model, graph) + [model_inputs(graph, 7 + s) for s in range(3)]
    for i, inputs in enumerate(cases):
        for e, g in zip(run_graph(graph, inputs), run_graph(part.graph, inputs)):
            assert_exact(e, g, f"{key} case {i}")


def test_vww_peak_with_the_input_in_the_arena():
    # The input image alone (96x96x3) is 27,648 B: while it sits in the arena, any plan needs
    # it plus the first op's output or patch buffers, so the arena-resident peak stays above
    # that; fitml reaches within 10% of it at a fraction of a percent more MACs. With the input
    # in the caller's buffer the arena meets 27,648 B (tests/test_caller_inputs_models.py).
    _, graph, part = found("vww")
    x = graph.tensors[graph.inputs[0]]
    assert x.nbytes == 27_648 and part.peak_after > x.nbytes
    assert part.peak_after <= 30_000 and part.overhead <= 0.01
    assert part.peak_before == 55_440 or part.peak_before >= 55_296


@needs_arm
@pytest.mark.parametrize("key", ["vww", "ic", "kws"])
def test_real_models_partitioned_bit_exact_on_host_and_qemu(key):
    model, graph, part = found(key)
    cases = sample_inputs(model, graph)[:1] + [model_inputs(graph, 21)]
    for executor, opts in (("host", {}), ("qemu", {"target": "cortex-m4"})):
        run = get_executor(executor)
        for i, inputs in enumerate(cases):
            want = run_graph(graph, inputs)[0]
            assert_exact(want, run(part.graph, inputs, **opts).outputs[0],
                         f"{key} {executor} case {i}")
