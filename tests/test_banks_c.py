"""RAM banks and a second flash region in the generated C: the layout's capacities and weight
placement, the sections and sizes in model.c/.h/_weights.c, unchanged output when everything
fits, the report of a one-RAM board; `fitml check` and `compile` say what moved."""
from __future__ import annotations

import json
import re

import pytest

from cli_util import fitml
from conftest import shared_model
from toolchain import api
from toolchain.backends.c import c_context, constant_arrays, emit_c, lower
from toolchain.report.fit import fit
from toolchain.plan.regions import CODE_RESERVE, Layout, layout_for, place_weights
from toolchain.targets import load_target
from bank_boards import KWS, SMALL, board, m55_board


# --- layout and C ------------------------------------------------------------------------------

def test_layout_capacities_and_weight_placement(tmp_path):
    tgt = load_target(board(tmp_path, "b", "cortex-m55", 8192, [
        ("itcm", "flash", 0x10000000, 40 << 10), ("dtcm", "ram", 0x30000000, 24 << 10),
        ("sram", "ram", 0x11000000, 64 << 10), ("qspi", "flash", 0x38000000, 1 << 20)]))
    lay = layout_for(tgt, reserve_ram=1000)
    assert lay.banks == (("dtcm", (24 << 10) - 8192 - 1000), ("sram", 64 << 10))
    assert lay.flashes == (("itcm", (40 << 10) - CODE_RESERVE), ("qspi", 1 << 20))
    assert layout_for(tgt, ram_overhead=0, flash_overhead=0).banks[0] == ("dtcm", 24 << 10)
    # parameters stay in main flash and come off its room first; weights first fit in order
    lay = Layout((("ram", 1),), (("main", 100), ("ext", 1000)))
    arrays = [("w0", 64, False), ("p0", 16, True), ("w1", 48, False), ("w2", 16, False)]
    assert place_weights(lay, arrays) == {"w0": "main", "p0": "main", "w1": "ext",
                                          "w2": "main"}
    full = Layout((("ram", 1),), (("main", 10), ("ext", 10)))
    assert place_weights(full, [("w", 64, False)]) == {"w": "main"}   # no room: main overflows


def test_c_sections_follow_the_layout(tmp_path):
    graph = api.load(shared_model(KWS))
    lay = layout_for(load_target(m55_board(tmp_path, graph)))
    low = lower(graph, "kws", layout=lay, variant="mve")
    c_context(low, "", "")                  # names the constant arrays and places them
    files = emit_c(graph, "kws", "two-bank-m55", layout=lay, variant="mve")
    plan, c, h, w = low.plan, files["kws.c"], files["kws.h"], files["kws_weights.c"]
    assert f"#define KWS_ARENA_SIZE {plan.arena_size}\n" in h
    assert f"#define KWS_ARENA_SRAM_SIZE {plan.banks[1].size}\n" in h and ".fitml.sram" in h
    assert 'static uint8_t kws_arena_sram[KWS_ARENA_SRAM_SIZE] FITML_PLACE_AFTER(16, ' \
        '".fitml.sram");' in c
    assert c.count("kws_arena_sram + ") >= len(plan.tensor_banks)
    assert 'FITML_PLACE_AFTER(16, ".fitml.qspi")' in w and ".fitml.qspi" in h
    spilled = [s for s, r in low.weight_regions.items() if r == "qspi"]
    assert spilled and len(spilled) < len(low.weight_regions)
    for s, region in low.weight_regions.items():
        line = re.split(rf"const \w+ {s}\[", w, maxsplit=1)[1].split("\n", 1)[0]
        assert line.endswith("] KWS_WEIGHT_QSPI = {" if region == "qspi" else "] KWS_WEIGHT = {")


@pytest.mark.parametrize("rel", SMALL)
def test_output_unchanged_when_everything_fits(rel):
    # byte-identical C whenever the arena fits the first bank and the constants the main flash
    # (always on one-RAM, one-flash cores); otherwise something must have moved
    graph = api.load(shared_model(rel))
    base = emit_c(graph, "model", "x")
    for target in ("cortex-m4", "cortex-m55", "nucleo-h743zi2", "rpi-pico"):
        lay = layout_for(load_target(target))
        low = lower(graph, layout=lay)
        c_context(low, "", "")
        fits = len(lay.banks) == 1 or low.plan.total_size <= lay.banks[0][1]
        fits &= len(lay.flashes) == 1 or sum(n for _, n, _ in constant_arrays(low)) <= \
            lay.flashes[0][1]
        files = emit_c(graph, "model", "x", layout=lay)
        assert (files == base) == fits, target


def test_single_ram_region_report_unchanged():
    graph = api.load(shared_model(KWS))
    rep = fit(graph, "nucleo-f411re", ram=8192, measure=False)    # one RAM region: no banks
    assert rep.activations_peak_bytes == lower(graph).plan.arena_size
    assert not rep.moved and rep.overflows[0][0].name == "sram"


# --- CLI ---------------------------------------------------------------------------------------

def test_check_and_compile_cli_report_what_moved(tmp_path):
    model = shared_model(KWS)
    path = m55_board(tmp_path, api.load(model))
    proc = fitml("check", model, "--target", path, "--no-measure", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    kinds = {(m["kind"], m["from"], m["to"]) for m in d["moved"]}
    assert kinds == {("activations", "dtcm", "sram"), ("weights", "itcm", "qspi")}
    used = {r["name"]: r["used"] for r in d["regions"]}
    assert used["sram"] > 0 and used["qspi"] > 0
    out = tmp_path / "c"
    proc = fitml("compile", model, "--target", path, "-o", out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    banks = {b["region"]: b["bytes"] for b in report["arena_banks"]}
    assert banks == {"dtcm": report["arena_bytes"], "sram": used["sram"]}
    assert {(m["kind"], m["to"]) for m in report["moved"]} == {("activations", "sram"),
                                                               ("weights", "qspi")}
    assert f"#define MODEL_ARENA_SRAM_SIZE {banks['sram']}" in (out / "model.h").read_text()
    assert ".fitml.qspi" in (out / "model_weights.c").read_text()
