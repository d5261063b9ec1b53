"""Models whose arena exceeds a small first RAM bank, and whose weights exceed a small main
flash, run bit-exact under QEMU, with the bank arrays and spilled weights at addresses inside
their regions (also banks carved from a single-RAM machine); the fit report shows the split and
measures that build."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from conftest import shared_model
from toolchain import api
from toolchain.backends.c import c_context, lower
from toolchain.report.fit import fit
from toolchain.report.text import render_markdown, render_text
from toolchain.verify.qemu_build import build_qemu, emulation_target, harness_layout
from bank_boards import IC, KWS, board, m55_board


needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="Cortex-M toolchain or qemu-system-arm missing: run ./setup.sh")


def inputs_for(graph, seed: int):
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, graph.tensors[n].shape).astype(np.int8)
            for n in graph.inputs]


def nm_sizes(elf) -> dict[str, tuple[int, int]]:
    out = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return {p[3]: (int(p[0], 16), int(p[1], 16)) for p in map(str.split, out.splitlines())
            if len(p) == 4}


# --- QEMU --------------------------------------------------------------------------------------

def assert_in_region(emu, region: str, addr: int, size: int, what: str) -> None:
    r = emu.region(region)
    assert r.base <= addr and addr + size <= r.end, \
        f"{what} at {addr:#x}+{size} is outside {region} [{r.base:#x}, {r.end:#x})"


@needs_arm
def test_activations_and_weights_split_run_bit_exact_on_qemu(tmp_path):
    graph = api.load(shared_model(KWS))
    path = m55_board(tmp_path, graph)
    emu = emulation_target(path)
    low = lower(graph, "model", layout=harness_layout(emu, graph), variant="mve")
    c_context(low, "", "")
    assert low.plan.banks[1].size and low.plan.tensor_banks       # the harness build splits
    spilled = {s for s, r in low.weight_regions.items() if r == "qspi"}
    assert spilled
    for seed in (1, 2):
        x = inputs_for(graph, seed)
        want = api.run(graph, x, executor="reference").outputs
        got = api.run(graph, x, executor="qemu", target=path)
        np.testing.assert_array_equal(got.outputs[0], want[0])
    elf, emu = build_qemu(graph, path)
    syms = nm_sizes(elf)
    addr, size = syms["model_arena_sram"]
    assert size == low.plan.banks[1].size
    assert_in_region(emu, "sram", addr, size, "model_arena_sram")
    assert_in_region(emu, "dtcm", *syms["arena"], "arena")
    for name, region in low.weight_regions.items():
        assert_in_region(emu, region, *syms[name], name)
    assert all(name in spilled or low.weight_regions[name] == "itcm" for name in
               low.weight_regions)


@needs_arm
def test_fit_report_shows_the_split_and_measures_that_build(tmp_path):
    graph = api.load(shared_model(KWS))
    path = m55_board(tmp_path, graph)
    rep = fit(graph, path)
    assert rep.fits and rep.stack_bytes, rep.measurement.note
    dtcm, sram, qspi = rep.region("dtcm"), rep.region("sram"), rep.region("qspi")
    bank0 = next(i.bytes for i in dtcm.contents if i.item == "arena")
    bank1 = next(i.bytes for i in sram.contents if i.item == "arena")
    assert bank0 <= dtcm.capacity - 8192 and bank1 > 0
    assert rep.activations_peak_bytes == bank0 + bank1
    acts = [x for x in rep.moved if x.kind == "activations"]
    weights = [x for x in rep.moved if x.kind == "weights"]
    assert acts and {(x.src, x.dst) for x in acts} == {("dtcm", "sram")}
    assert {(x.src, x.dst) for x in weights} == {("itcm", "qspi")}
    assert sum(x.bytes for x in weights) == qspi.used
    text = render_text(rep)
    assert "activation buffers" in text and "from dtcm to sram" in text
    assert "from itcm to qspi" in text and "to sram" in render_markdown(rep)
    syms = nm_sizes(rep.measurement.elf)                  # the ELF measured is this layout
    assert syms["model_arena_sram"][1] == bank1 and syms["arena"][1] == bank0 + 1
    emu = emulation_target(path)
    assert_in_region(emu, "sram", *syms["model_arena_sram"], "model_arena_sram")
    for x in weights:
        sym = x.what.rsplit("(", 1)[1].rstrip(")")
        assert_in_region(emu, "qspi", *syms[sym], sym)


@needs_arm
def test_banks_carved_from_a_single_ram_machine_run_bit_exact(tmp_path):
    # Cortex-M3 on mps2-an385 (one 4 MB SRAM): the board's second bank is carved from its top;
    # IC (ResNet, residual ADDs) does not fit a 32 KB first bank
    graph = api.load(shared_model(IC))
    path = board(tmp_path, "carved-m3", "cortex-m3", 4096, [
        ("flash", "flash", 0x0, 1 << 20), ("sram", "ram", 0x20000000, 32 << 10),
        ("sram2", "ram", 0x20100000, 96 << 10)])
    emu = emulation_target(path)
    assert emu.region("sram2").base >= emu.region("sram").end
    low = lower(graph, layout=harness_layout(emu, graph))
    assert low.plan.banks[1].size and low.plan.arena_size <= (32 << 10) - 4096
    x = inputs_for(graph, 3)
    want = api.run(graph, x, executor="reference").outputs
    got = api.run(graph, x, executor="qemu", target=path)
    np.testing.assert_array_equal(got.outputs[0], want[0])
    elf, emu = build_qemu(graph, path)
    assert_in_region(emu, "sram2", *nm_sizes(elf)["model_arena_sram2"], "model_arena_sram2")
