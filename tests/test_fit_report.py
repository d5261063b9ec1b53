"""The fit report (toolchain/fit.py, toolchain/report.py) and board emulation under QEMU.

The sizes the report predicts from the lowering (arena, weights) are checked against what the
built ELF holds, symbol by symbol and section by section, on every shared int8 model; the
totals against the ELF minus a harness-only ELF. Tolerance: 1% or 256 bytes, the larger.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from conftest import shared_model
from models import INT8_MODELS
from toolchain import api
from toolchain.report.fit import fit
from toolchain.report.fit_report import SCHEMA, to_json
from toolchain.report.plot import render_svg, write_plot
from toolchain.report.text import render_markdown
from toolchain.targets import load_target
from toolchain.verify.elf import elf_sizes
from toolchain.verify.harness import render_linker_script
from toolchain.verify.qemu_build import emulation_target

needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="Cortex-M toolchain or qemu-system-arm missing: run ./setup.sh")
BOARD = "nucleo-l4r5zi"          # Cortex-M4, 2 MB flash, 640 KB SRAM: every shared model fits
WEIGHT_SYMBOL = re.compile(r"^model_[wc]\d+$")   # how the C backend names weight/param arrays


def graph_of(model):
    return api.load(shared_model(model.rel))


def tolerance(value: int) -> float:
    return max(0.01 * value, 256)


def assert_close(what: str, predicted: int, measured: int) -> None:
    assert abs(predicted - measured) <= tolerance(measured), \
        f"{what}: predicted {predicted:,} B, ELF {measured:,} B (tolerance {tolerance(measured):g})"


def nm(elf) -> dict[str, int]:
    """Symbol -> size, read with arm-none-eabi-nm -S here (independently of toolchain.fit)."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return {p[3]: int(p[1], 16) for p in map(str.split, out.splitlines()) if len(p) == 4}


@needs_arm
@pytest.mark.parametrize("model", INT8_MODELS, ids=lambda m: m.key)
def test_prediction_agrees_with_elf_and_qemu(model):
    rep = fit(graph_of(model), BOARD)
    m = rep.measurement
    assert m.link == "ok", m.link                  # the board-sized linker script accepted it
    assert m.code_bytes and m.stack_bytes, m.note
    emu = emulation_target(BOARD)
    syms = nm(m.elf)
    assert_close("arena", rep.activations_peak_bytes, syms["arena"])
    weights = sum(size for name, size in syms.items() if WEIGHT_SYMBOL.match(name))
    assert_close("weights", rep.weights_bytes, weights)
    full, harness = elf_sizes(m.elf, emu), elf_sizes(m.harness_elf, emu)
    flash, ram = emu.code_region.name, emu.ram_region.name
    assert_close("flash total", rep.region(flash).used,
                 full.regions[flash] - harness.regions[flash])
    ram_static = rep.region(ram).used - m.stack_bytes          # the stack is measured by QEMU
    assert_close("RAM total (without stack)", ram_static, full.regions[ram] - harness.regions[ram])
    assert 0 < m.stack_bytes < load_target(BOARD).stack_size
    assert m.instructions > 0


@pytest.mark.parametrize("model", INT8_MODELS, ids=lambda m: m.key)
def test_per_op_bytes_add_up(model):
    graph = graph_of(model)
    rep = fit(graph, BOARD, measure=False)
    live = [o.live_bytes for o in rep.ops]
    assert max(live) <= rep.activations_peak_bytes      # the live set is a lower bound
    if not any(o.scratch_bytes for o in rep.ops) and model.key in ("ad", "hello_world_int8"):
        assert max(live) == rep.activations_peak_bytes   # chains without scratch: exact
    assert rep.peak_op == int(np.argmax(live))
    for o, op in zip(rep.ops, graph.ops):
        out = graph.tensors[op.outputs[0]].nbytes
        assert o.live_bytes >= o.scratch_bytes + out, f"op {o.index}: output not counted live"
    assert sum(o.weight_bytes for o in rep.ops) == rep.weights_bytes
    consts = sum(t.nbytes for t in graph.tensors.values() if t.is_const)
    assert rep.weights_bytes >= consts - 4 * len(graph.ops)  # every constant emitted (+params)
    assert rep.macs == api.inspect(graph)["macs"]
    assert rep.code_bytes is None and rep.stack_bytes is None and "not measured" in rep.verdict()


def test_overrides_and_reserve(rng):
    graph = graph_of(INT8_MODELS[0])                     # KWS, arena 16 KB
    base = fit(graph, "nucleo-f411re", measure=False)
    arena = base.activations_peak_bytes
    ram = int(rng.integers(arena // 2, arena - 1))
    tight = fit(graph, "nucleo-f411re", ram=ram, measure=False)
    assert not tight.fits and tight.region("sram").capacity == ram
    (region, over), = tight.overflows
    assert (region.name, over) == ("sram", arena - ram)
    assert region.largest()[0].what.startswith("activation arena")
    assert f"overflows by {arena - ram:,} B" in tight.verdict()
    reserve = 131072 - arena + 1
    res = fit(graph, "nucleo-f411re", reserve_ram=reserve, measure=False)
    assert res.overflows[0][1] == 1 and res.reserve_ram_bytes == reserve
    wide = fit(graph, "nucleo-f411re", flash=1 << 20, measure=False)
    assert wide.region("flash").capacity == 1 << 20


def test_weights_spill_to_the_next_flash_region():
    graph = graph_of(INT8_MODELS[0])                     # KWS: ~54 KB of weights + layouts
    whole = fit(graph, "cortex-m55", measure=False)
    assert not whole.moved and whole.region("qspi").used == 0
    rep = fit(graph, "cortex-m55", flash=64 << 10, measure=False)
    assert rep.fits and rep.moved
    assert {(x.src, x.dst) for x in rep.moved} == {("itcm", "qspi")}
    assert sum(x.bytes for x in rep.moved) == rep.region("qspi").used
    assert rep.region("itcm").used <= 128 << 10
    assert rep.region("itcm").used + rep.region("qspi").used == whole.region("itcm").used
    assert "moved" in to_json(rep) and "to qspi" in render_markdown(rep)


def test_missing_toolchain_is_not_measured(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))            # no arm-none-eabi-*, no qemu
    monkeypatch.setenv("FITML_CACHE", str(tmp_path / "cache"))   # nor a measured build
    rep = fit(graph_of(INT8_MODELS[4]), "nucleo-f411re")
    assert rep.code_bytes is None and rep.stack_bytes is None
    assert "not found" in rep.measurement.note
    d = rep.to_dict()
    assert d["code_bytes"] is None and d["measured"] == {**d["measured"], "code": False,
                                                          "stack": False}


def test_renderers():
    rep = fit(graph_of(INT8_MODELS[0]), "nucleo-f411re", reserve_ram=4096, measure=False)
    d = json.loads(to_json(rep))
    assert d["schema"] == SCHEMA and d["fits"] is True and d["target"] == "nucleo-f411re"
    for key in ("activations_peak_bytes", "weights_bytes", "code_bytes", "stack_bytes"):
        assert key in d
    assert [(r["name"], r["kind"]) for r in d["regions"]] == [("flash", "flash"), ("sram", "ram")]
    assert all(r["used"] == sum(c["bytes"] for c in r["contents"]) for r in d["regions"])
    assert len(d["ops"]) == len(rep.ops)
    md = render_markdown(rep).splitlines()
    head = md.index("| region | kind | capacity (B) | used (B) | headroom (B) | use | contents |")
    assert md[head + 1].startswith("|---") and md[head + 2].startswith("| flash |")
    assert all(line.count("|") == 8 for line in md[head:head + 4])
    root = ET.fromstring(render_svg(rep))
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    assert len(bars) == len(rep.ops)
    heights = [float(b.get("height")) for b in bars]
    assert bars[int(np.argmax(heights))].get("fill") == "#e8590c"      # the peak, highlighted
    assert sum(b.get("fill") == "#e8590c" for b in bars) == 1
    assert any("RAM budget" in (t.text or "") for t in root.iter(f"{ns}text"))


def test_plot_files(tmp_path):
    rep = fit(graph_of(INT8_MODELS[5]), "rpi-pico", measure=False)
    write_plot(rep, tmp_path / "t.svg")
    ET.parse(tmp_path / "t.svg")
    pytest.importorskip("matplotlib")
    write_plot(rep, tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_emulation_target_keeps_board_sizes_on_the_core_machine(tmp_path):
    for name in ("nucleo-f411re", "rpi-pico", "nucleo-h743zi2", "b-u585i-iot02a"):
        board, emu = load_target(name), emulation_target(name)
        core = load_target(board.core)
        assert emu.qemu_machine == core.qemu_machine and emu.name == board.name
        for kind in ("flash", "ram"):
            mine, theirs = emu.main_region(kind), core.main_region(kind)
            assert (mine.name, mine.size) == (board.main_region(kind).name,
                                              min(board.main_region(kind).size, theirs.size))
            assert mine.base == theirs.base
        script = render_linker_script(tmp_path, emu).read_text()
        assert f"LENGTH = 0x{board.ram_region.size:08x}" in script
    assert emulation_target("cortex-m55") == load_target("cortex-m55")


@needs_arm
def test_board_runs_on_its_core_machine():
    model = INT8_MODELS[4]                               # hello_world: small and quick
    graph = graph_of(model)
    x = [np.random.default_rng(7).integers(-128, 128, (1, 1), dtype=np.int8)]
    want = api.run(graph, x, executor="reference").outputs
    got = api.run(graph, x, executor="qemu", target="rpi-pico")
    np.testing.assert_array_equal(got.outputs[0], want[0])
    assert got.stats["target"] == "rpi-pico"
