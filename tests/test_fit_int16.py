"""`fitml fit` with int16 activations as a search dimension: a model whose int8 activations lose
too much is brought within --max-drop by 16x8 layers, whose doubled activation bytes the RAM
estimate counts; the candidate table and the per-layer changes say so."""
from __future__ import annotations

import json

import numpy as np
import pytest

from toolchain import api
from toolchain.fit import search_report as fit_rep
from toolchain.ir import Graph, Op, Tensor
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

MAX_DROP = 10.0


def outlier_mlp(seed: int = 0, width: int = 24, gain: float = 80.0, classes: int = 4) -> Graph:
    """x[1,16] -> FC -> FC -> FC[classes]. One unit of each hidden layer is `gain` times larger
    than the others and barely read: int8 activations spend their 256 levels on it and lose the
    informative units; int16 keeps them."""
    rng = np.random.default_rng(seed)
    ts, ops, prev, n_in = [Tensor("x", (1, 16), "float32")], [], "x", 16
    for i, n_out in enumerate((width, width, classes)):
        w = rng.normal(0, 1, (n_out, n_in)).astype(np.float32)
        if i < 2:
            w[0] *= gain
        if i:
            w[:, 0] /= gain * 4
        b = rng.normal(0, 0.1, n_out).astype(np.float32)
        ts += [Tensor(f"w{i}", w.shape, "float32", w), Tensor(f"b{i}", b.shape, "float32", b),
               Tensor(f"h{i}", (1, n_out), "float32")]
        ops.append(Op("FULLY_CONNECTED", [prev, f"w{i}", f"b{i}"], [f"h{i}"],
                      {"activation": "NONE"}))
        prev, n_in = f"h{i}", n_out
    return Graph.build(ts, ops, ["x"], [prev]).validate()


def samples(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [[rng.uniform(-1, 1, (1, 16)).astype(np.float32)] for _ in range(n)]


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit16") / "c"
    res = api.fit_model(outlier_mlp(), "cortex-m4", samples(64, 0), out=out, max_drop=MAX_DROP,
                        measure=False)
    return res, out


def test_int16_candidate_meets_the_drop_int8_cannot(searched):
    res, out = searched
    assert res.ok, res.reason
    plain = res.candidates[0]
    assert plain.name == "int8" and plain.fits and plain.drop > MAX_DROP, plain.drop
    chosen = res.chosen
    assert chosen.config.int16 and "int16 act" in chosen.name
    assert chosen.drop <= MAX_DROP, (chosen.name, chosen.drop)
    assert chosen.ram > plain.ram                   # the int16 activation bytes are counted
    assert any(t.dtype == "int16" for t in chosen.graph.tensors.values())
    summary = json.loads((out / "fit.json").read_text())
    assert summary["candidates"][summary["chosen"]]["int16"] == list(chosen.config.int16)
    rows = {r["layer"]: r for r in summary["changes"]}
    for name in chosen.config.int16:
        assert rows[name]["activations"] == ["int8", "int16"]
    text = fit_rep.changes_text(summary["changes"])
    assert "act int8 -> int16" in text
    assert "int16 act" in fit_rep.table(res)


def test_chosen_int16_model_runs_bit_exact_in_c(searched):
    res, _ = searched
    q = res.chosen.graph
    host = get_executor("host")
    rng = np.random.default_rng(3)
    for i in range(3):
        x = rng.integers(-128, 128, (1, 16)).astype(np.int8)
        np.testing.assert_array_equal(run_graph(q, [x])[0], host(q, [x]).outputs[0],
                                      err_msg=f"host case {i}")


def test_int16_variants_only_of_fitting_candidates_that_lose_too_much(searched):
    res, _ = searched
    base = {(tuple(c.config.precision), tuple(c.config.prune)): c for c in res.candidates
            if not c.config.int16}
    variants = [c for c in res.candidates if c.config.int16]
    assert variants
    for c in variants:
        b = base[tuple(c.config.precision), tuple(c.config.prune)]
        assert b.fits and b.drop > MAX_DROP, (c.name, b.name, b.drop)
