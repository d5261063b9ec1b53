"""DSP weight layouts chosen by value (backends/clayouts.py): when flash is short, the layouts
that save the most instructions per byte are kept, from a measured cost table
(lowering/layout_costs.py); a core target takes a chosen flash size (`--flash`), and the fit
report shows the trade per layer."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_util import fitml
from conftest import shared_model
from toolchain.backends.c import lower
from toolchain.backends.clayouts import choose, fit_layouts, flash_fits
from toolchain.frontends.tflite import load_tflite
from toolchain.lowering.layout_costs import family, insns_saved, saving_per_mac
from toolchain.plan.regions import layout_for
from toolchain.report.fit import with_overrides
from toolchain.targets import load_target

KWS = "mlperf_tiny/kws/kws_ref_model_int8.tflite"


def capacity(costs: dict[int, int], room: int):
    return lambda kept: sum(costs[i] for i in kept) <= room


def test_choose_keeps_the_best_gain_per_byte():
    # a: 10 instructions saved per byte, the largest; b and c: 1 per byte; room 1100 B.
    # "Largest first" would give up a and keep b + c (1100 saved); by value a stays (10000).
    gains = {0: 10000, 1: 600, 2: 500}
    costs = {0: 1000, 1: 600, 2: 500}
    assert choose(gains, costs, capacity(costs, 1100)) == {0}
    assert choose(gains, costs, capacity(costs, 1600)) == {0, 1}
    assert choose(gains, costs, capacity(costs, 2100)) == {0, 1, 2}
    assert choose(gains, costs, capacity(costs, 400)) == set()


def test_choose_skips_what_does_not_fit_and_fills_with_smaller_ones():
    gains = {0: 900, 1: 800, 2: 100}
    costs = {0: 100, 1: 1000, 2: 50}          # ratios 9, 0.8, 2
    assert choose(gains, costs, capacity(costs, 200)) == {0, 2}


def test_choose_takes_the_best_single_layout_when_it_alone_gains_more():
    # greedy by ratio takes 0 (ratio 2) and then 1 no longer fits; 1 alone gains far more
    gains = {0: 20, 1: 1000}
    costs = {0: 10, 1: 1000}
    assert choose(gains, costs, capacity(costs, 1005)) == {1}


def test_gain_from_a_synthetic_cost_table():
    table = {"cortex-m4": {"conv_1x1": {"int8": 1.5, "layout": 1.0},
                           "depthwise_conv": {"int8": 13.0, "layout": 3.4}},
             "cortex-m55": {"fully_connected": {"int8": 2.0, "layout": 1.0}}}
    conv1 = {"geom": {"filter": {"h": 1, "w": 1}}}
    assert family("CONV_2D", conv1) == "conv_1x1"
    assert family("CONV_2D", {"geom": {"filter": {"h": 3, "w": 3}}}) == "conv"
    assert family("ADD", {}) is None
    assert insns_saved("CONV_2D", conv1, 1000, "cortex-m4", table=table) == 500
    assert insns_saved("DEPTHWISE_CONV_2D", {}, 1000, "cortex-m4", table=table) == 9600
    # an unknown core: the variant's stand-in core, then any core that measured the family
    assert insns_saved("CONV_2D", conv1, 1000, "cortex-m7", table=table) == 500
    assert insns_saved("FULLY_CONNECTED", {}, 1000, "cortex-m7", table=table) == 1000
    assert saving_per_mac("lstm", "cortex-m4", table=table) == 0.0


def kws_lowered(flash: int | None):
    graph = load_tflite(shared_model(KWS))
    tgt = with_overrides(load_target("cortex-m4"), None, flash)
    layout = layout_for(tgt)
    return graph, layout, lower(graph, layout=layout, variant="dsp", core="cortex-m4")


def test_tight_flash_keeps_layouts_by_gain_per_byte():
    graph, layout, low = kws_lowered(66 * 1024)
    choices = low.layout_choices
    kept = [c for c in choices if c.kept]
    plain = [c for c in choices if not c.kept]
    assert kept and plain, choices
    assert flash_fits(layout, low.graph, low.calls)
    assert set(low.plain_layouts) == {c.output for c in plain}
    # every layer left on its int8 path would overflow the flash if its layout came back
    # (greedy by gain per byte): rebuild the choice with one more layout kept
    full = lower(graph, variant="dsp").calls
    for c in plain:
        calls = [full[i] if i == c.op or any(k.op == i for k in kept) else call
                 for i, call in enumerate(low.calls)]
        assert not flash_fits(layout, low.graph, calls), c
    # with a measured table, the depthwise layouts (many MACs per weight byte) come first
    if any(c.insns_saved for c in choices):
        best = max(choices, key=lambda c: c.insns_saved / max(c.bytes, 1))
        assert best.kept


def test_roomy_flash_keeps_every_layout():
    _, _, low = kws_lowered(None)
    assert low.layout_choices and all(c.kept for c in low.layout_choices)
    assert low.plain_layouts == ()


def test_fit_layouts_without_candidates_is_a_no_op():
    graph = load_tflite(shared_model(KWS))
    low = lower(graph)                                   # portable: no layouts offered
    calls, plain, choices = fit_layouts(low.graph, low.calls, None)
    assert calls == low.calls and plain == () and choices == ()


@pytest.mark.parametrize("fmt", ["json", "text", "md"])
def test_report_shows_the_trade(fmt):
    proc = fitml("report", shared_model(KWS), "--target", "cortex-m4", "--flash", "66K",
                 "--no-measure", "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    if fmt == "json":
        trade = json.loads(proc.stdout)["dsp_layouts"]
        layers = trade["layers"]
        assert {x["kept"] for x in layers} == {True, False}
        assert trade["kept_bytes"] == sum(x["bytes"] for x in layers if x["kept"])
        assert trade["int8_path_bytes_saved"] == sum(x["bytes"] for x in layers
                                                     if not x["kept"])
        assert all(x["bytes"] > 0 for x in layers)
    else:
        assert "insns saved (est.)" in proc.stdout
        assert "int8" in proc.stdout and "layout" in proc.stdout


def test_compile_with_a_chosen_flash(tmp_path):
    out = tmp_path / "kws"
    proc = fitml("compile", shared_model(KWS), "--target", "cortex-m4", "--flash", "66K",
                 "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "DSP layouts:" in proc.stdout and "on the int8 path" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["flash_budget"] == 66 * 1024
    assert {c["kept"] for c in report["dsp_layouts"]} == {True, False}
    roomy = fitml("compile", shared_model(KWS), "--target", "cortex-m4", "-o", tmp_path / "r")
    assert roomy.returncode == 0 and "DSP layouts:" not in roomy.stdout
    weights = lambda d: sum(len(p.read_bytes()) for p in d.glob("model_weights.c"))  # noqa
    assert weights(out) < weights(tmp_path / "r")


def test_bad_flash_sizes_are_usage_errors():
    for bad in ("0", "-5K", "lots"):
        proc = fitml("verify", shared_model(KWS), "--flash", bad, "--random", "1")
        assert proc.returncode == 2, (bad, proc.stdout, proc.stderr)
        assert "--flash" in proc.stderr and "Traceback" not in proc.stderr


def test_fit_search_shows_each_candidates_layout_trade(tmp_path):
    ex = Path(__file__).resolve().parents[1] / "examples"
    proc = fitml("fit", ex / "mnist_cnn.onnx", "--target", "cortex-m4", "--calib",
                 ex / "mnist_calib.npy", "--flash", "20K", "-o", tmp_path / "out",
                 "--no-measure", "--json")
    assert proc.returncode == 0, proc.stderr
    cands = json.loads(proc.stdout)["candidates"]
    trades = [c["dsp_layouts"] for c in cands]
    assert all({"kept_bytes", "kept_insns_saved_est", "layers"} <= set(t) for t in trades)
    assert any(t["layers"] for t in trades)           # the int8 candidates carry layouts


def test_the_choice_follows_the_cost_table():
    # the same KWS at 66 KB, once with a table where only the 1x1 convs' layouts pay and once
    # where only the first (10x4) conv's does: the layouts kept follow the table
    graph, layout, _ = kws_lowered(66 * 1024)
    full = lower(graph, variant="dsp")
    kept = {}
    for fam in ("conv_1x1", "conv"):
        table = {"cortex-m4": {fam: {"int8": 5.0, "layout": 1.0}}}
        calls, _, choices = fit_layouts(full.graph, full.calls, layout, "cortex-m4",
                                        table=table)
        assert flash_fits(layout, full.graph, calls)
        assert {c.kind for c in choices if c.insns_saved} == {"CONV_2D"}
        kept[fam] = {c.op for c in choices if c.kept}
        assert any(c.kept for c in choices if c.insns_saved), fam
    ones = {c.op for c in choices if c.kind == "CONV_2D" and c.op != 0}
    assert 0 in kept["conv"]
    assert len(kept["conv_1x1"] & ones) >= max(1, len(kept["conv"] & ones))
    assert kept["conv_1x1"] != kept["conv"]
