"""`fitml fit` ranks candidates by one rule with or without labels (top-1 drops within a
tolerance that scales with the validation size tie, broken by SNR then flash), scores int16
candidates on the logits like the others, and prints candidate names whole."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from toolchain.fit.ranking import SearchResult, rank, tolerance_points
from toolchain.fit.search_report import table
from toolchain.ir import Graph, Op, Tensor
from toolchain.quant.calibration import collect
from toolchain.quant.ptq import quantize
from toolchain.quant.score import loss, reference, score_tensor


@dataclass
class Row:
    """What rank() and table() read of a candidate."""
    name: str
    drop: float
    snr_db: float
    flash: int
    fits: bool = True
    ram: int = 1000
    macs: int = 1000
    accuracy: float | None = None
    agreement: float = 1.0
    measured: bool = False


def test_tolerance_scales_with_the_validation_size():
    assert tolerance_points(200) == 100 * math.sqrt(200) / 4 / 200        # 3.5 of 200
    assert tolerance_points(20) == 100 * 2 / 20                           # at least 2 samples
    assert tolerance_points(10_000) < tolerance_points(200) < tolerance_points(20)


def test_two_more_right_answers_of_200_do_not_beat_12_db():
    # the case: int4 all (25.7 dB) was chosen over int8 (37.3 dB) for 2 of 200
    int8 = Row("int8", drop=0.0, snr_db=37.3, flash=60_000)
    int4 = Row("int4 all", drop=-1.0, snr_db=25.7, flash=40_000)
    assert [c.name for c in rank([int4, int8], 200)] == ["int8", "int4 all"]
    # on 10,000 samples 100 more right answers are not noise
    assert [c.name for c in rank([int4, int8], 10_000)] == ["int4 all", "int8"]


def test_ties_go_to_snr_then_flash_and_losers_stay_behind():
    a = Row("a", drop=0.5, snr_db=30.0, flash=50_000)
    b = Row("b", drop=0.0, snr_db=30.0, flash=40_000)
    c = Row("c", drop=9.0, snr_db=45.0, flash=10_000)
    d = Row("d", drop=0.0, snr_db=50.0, flash=90_000, fits=False)
    assert [x.name for x in rank([a, b, c, d], 200)] == ["b", "a", "c"]


def test_candidate_names_are_printed_whole():
    long = "int4 12 layers (91% of w) + prune 25% x 6 layers + int16 act 8 layers"
    res = SearchResult("nucleo-f411re", None, "agreement", 200,
                       candidates=[Row("int8", 0.0, 37.3, 60_000), Row(long, 1.0, 30.0, 9_000)])
    text = table(res)
    assert long in text
    assert len({ln.index(" 9,000") for ln in text.splitlines() if " 9,000" in ln}) == 1


def softmax_mlp(seed: int = 0) -> Graph:
    """x[1,16] -> FC 24 -> FC 4 -> SOFTMAX: the score SNR is taken on the logits."""
    rng = np.random.default_rng(seed)
    ts, ops, prev, n_in = [Tensor("x", (1, 16), "float32")], [], "x", 16
    for i, n_out in enumerate((24, 4)):
        w = rng.normal(0, 0.5, (n_out, n_in)).astype(np.float32)
        b = rng.normal(0, 0.1, n_out).astype(np.float32)
        ts += [Tensor(f"w{i}", w.shape, "float32", w), Tensor(f"b{i}", b.shape, "float32", b),
               Tensor(f"h{i}", (1, n_out), "float32")]
        ops.append(Op("FULLY_CONNECTED", [prev, f"w{i}", f"b{i}"], [f"h{i}"],
                      {"activation": "RELU" if i == 0 else "NONE"}))
        prev, n_in = f"h{i}", n_out
    ts.append(Tensor("p", (1, 4), "float32"))
    ops.append(Op("SOFTMAX", ["h1"], ["p"], {"beta": 1.0}))
    return Graph.build(ts, ops, ["x"], ["p"]).validate()


def test_int16_candidates_are_scored_on_the_logits():
    graph = softmax_mlp()
    rng = np.random.default_rng(1)
    samples = [[rng.uniform(-1, 1, (1, 16)).astype(np.float32)] for _ in range(32)]
    stats, ref = collect(graph, samples), reference(graph, samples)
    snr = {}
    for acts in ("int8", "int16"):
        q = quantize(graph, stats, "minmax", activations=acts)
        assert score_tensor(q) == "h1", acts          # the SOFTMAX input, not its output
        snr[acts] = loss(ref, q).snr_db
    assert snr["int8"] > 20 and snr["int16"] > snr["int8"], snr
