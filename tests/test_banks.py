"""Activations spread over RAM banks and weights spilled to a second flash region.

Planner level: hand-computed multi-bank plans and random lifetimes (no overlap per bank, every
bounded bank within its capacity, today's plan whenever the first bank holds everything).
C level: the layout's sections and sizes in model.c/.h/_weights.c, unchanged output when
everything fits. QEMU: models whose arena exceeds a small first bank, and whose weights exceed a
small main flash, run bit-exact, with the bank arrays and spilled weights at addresses inside
their regions; the fit report and `fitml check`/`compile` say what moved.
"""
from __future__ import annotations

import re

import json
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_util import fitml
from conftest import shared_model
from toolchain import api
from toolchain.backends.c import c_context, constant_arrays, emit_c, lower, shared_storage
from toolchain.report.fit import fit
from toolchain.plan.arena import ArenaPlanner, Buffer, align_up, check_no_overlap
from toolchain.plan.banks import split_banks
from toolchain.plan.memory import plan_memory
from toolchain.plan.regions import CODE_RESERVE, Layout, layout_for, place_weights
from toolchain.report.text import render_markdown, render_text
from toolchain.targets import load_target
from toolchain.verify.qemu_build import build_qemu, emulation_target, harness_layout

needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="Cortex-M toolchain or qemu-system-arm missing: run ./setup.sh")
KWS = "mlperf_tiny/kws/kws_ref_model_int8.tflite"       # arena 16,512 B, weights 34 KB
IC = "mlperf_tiny/ic/pretrainedResnet_quant.tflite"     # arena 50,304 B, branches + ADD
SMALL = ["tflm/hello_world_int8.tflite", "tflm/micro_speech_quantized.tflite",
         "mlperf_tiny/ad/ad01_int8.tflite", KWS]


def board(tmp_path, name: str, core: str, stack: int, regions) -> str:
    """A user board file: regions as (name, kind, base, size)."""
    text = f'name = "{name}"\ncore = "{core}"\nstack_size = {stack}\n' + "".join(
        f'\n[[regions]]\nname = "{n}"\nkind = "{k}"\nbase = {b:#x}\nsize = {s}\n'
        for n, k, b, s in regions)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return str(path)


def m55_board(tmp_path, graph) -> str:
    """Cortex-M55 (mps3-an547) with a DTCM holding two thirds of the model's arena (besides an
    8 KB stack) before 64 KB of SRAM, and an ITCM holding the code reserve, the parameters and
    half the weights before 1 MB of QSPI flash: activations and weights both overflow. Sized
    for the build the M55 links (MVE/DSP kernels with their int16 weight layouts)."""
    low = lower(graph, variant="mve")
    c_context(low, "", "")
    arrays = constant_arrays(low)
    params = sum(size for _, size, is_param in arrays if is_param)
    weights = sum(size for _, size, is_param in arrays if not is_param)
    kb = lambda n: -(-n // 1024) * 1024  # noqa: E731
    return board(tmp_path, "two-bank-m55", "cortex-m55", 8192, [
        ("itcm", "flash", 0x10000000, kb(CODE_RESERVE + params + weights // 2)),
        ("dtcm", "ram", 0x30000000, 8192 + kb(low.plan.arena_size * 2 // 3)),
        ("sram", "ram", 0x11000000, 64 << 10), ("qspi", "flash", 0x38000000, 1 << 20)])


def inputs_for(graph, seed: int):
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, graph.tensors[n].shape).astype(np.int8)
            for n in graph.inputs]


def nm_sizes(elf) -> dict[str, tuple[int, int]]:
    out = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return {p[3]: (int(p[0], 16), int(p[1], 16)) for p in map(str.split, out.splitlines())
            if len(p) == 4}


# --- planner -----------------------------------------------------------------------------------

def test_hand_computed_chain_over_two_banks():
    # A(0..1) -> B(1..2) -> C(2..3): one arena needs A+B = 1008 + 608 = 1616 B. With 1200 B in
    # the fast bank, the peak at step 1 exceeds it by 416: A and B each cover that, B is cheaper
    # (608 B x 2 steps < 1008 B x 2), so B moves; A and C share offset 0 in the fast bank.
    bufs = [Buffer(1000, 0, 1, "A"), Buffer(600, 1, 2, "B"), Buffer(900, 2, 3, "C")]
    bank, offset, sizes = split_banks(bufs, [1200, None], 16, [2, 2, 2])
    assert (bank, offset, sizes) == ([0, 1, 0], [0, 0, 0], [1008, 608])


def test_chain_moves_every_other_tensor():
    # T0..T5 (1008 B each) live over [i, i+1]: every step holds two, 1500 B hold one. Moving T0
    # then T2 and T4 (which never live together) keeps the slow bank at one tensor; moving T1
    # at step 2 would have doubled it
    bufs = [Buffer(1000, i, i + 1, f"T{i}") for i in range(6)]
    bank, offset, sizes = split_banks(bufs, [1500, None], 16, [2] * 6)
    assert (bank, offset, sizes) == ([1, 0, 1, 0, 1, 0], [0] * 6, [1008, 1008])


def test_most_used_buffer_stays_in_the_fast_bank():
    bufs = [Buffer(400, 0, 1, "hot"), Buffer(400, 0, 1, "cold")]
    assert split_banks(bufs, [500, None], 16, [5, 1])[0] == [0, 1]
    assert split_banks(bufs, [500, None], 16, [1, 5])[0] == [1, 0]


def test_no_single_buffer_covers_the_excess():
    # three 160 B buffers live together, 200 B (-> 192 aligned) of fast bank: 480 - 192 = 288 B
    # too many; none covers it, so the largest (first on ties) moves; then 128 B too many and
    # each covers it: the cheapest (first on ties) moves
    bufs = [Buffer(160, 0, 0, f"x{i}") for i in range(3)]
    bank, offset, sizes = split_banks(bufs, [200, None], 16, [1, 1, 1])
    assert (bank, sizes) == ([1, 1, 0], [160, 320])
    assert offset[2] == 0 and sorted(offset[:2]) == [0, 160]


def test_three_banks_cascade():
    # four 96 B buffers live together; banks of 100 (-> 96), 200 (-> 192) and unbounded
    bufs = [Buffer(96, 0, 0, f"x{i}") for i in range(4)]
    bank, offset, sizes = split_banks(bufs, [100, 200, None], 16, [1] * 4)
    assert (bank, offset, sizes) == ([2, 1, 1, 0], [0, 0, 96, 0], [96, 192, 96])


def test_everything_fits_the_first_bank_gives_the_single_arena_plan():
    p = ArenaPlanner(16)
    for size, first, last in ((1000, 0, 1), (600, 1, 2), (900, 2, 3), (50, 0, 3)):
        p.add_buffer(size, first, last)
    bank, offset, sizes = split_banks(p.buffers, [p.arena_size, None], 16, [1] * 4)
    assert bank == [0] * 4 and sizes == [p.arena_size, 0]
    assert offset == [p.offset(i) for i in range(4)]


specs = st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 20), st.integers(0, 8)),
                 min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(specs, st.lists(st.integers(0, 6000), min_size=1, max_size=3),
       st.sampled_from([4, 16]), st.integers(0, 2 ** 32 - 1))
def test_random_plans_hold_the_invariants(spec, caps, alignment, seed):
    bufs = [Buffer(s, f, f + n, f"b{i}") for i, (s, f, n) in enumerate(spec)]
    uses = list(np.random.default_rng(seed).integers(1, 5, len(bufs)))
    capacities = [*caps, None]
    bank, offset, sizes = split_banks(bufs, capacities, alignment, uses)
    for k, cap in enumerate(capacities):
        mine = [i for i in range(len(bufs)) if bank[i] == k]
        check_no_overlap([bufs[i] for i in mine], [offset[i] for i in mine], alignment)
        assert sizes[k] == align_up(max((offset[i] + bufs[i].size for i in mine), default=0),
                                    alignment)
        if cap is not None:
            assert sizes[k] <= cap, f"bank {k}: {sizes[k]} B over its {cap} B"
    single = ArenaPlanner(alignment)
    for b in bufs:
        single.add_buffer(b.size, b.first, b.last)
    if single.arena_size <= caps[0]:
        assert bank == [0] * len(bufs) and offset == [single.offset(i) for i in range(len(bufs))]


def test_plan_memory_over_banks_on_a_real_model():
    graph = api.load(shared_model(KWS))
    low = lower(graph)
    one, shares = low.plan, shared_storage(low.graph, low.calls)
    same = plan_memory(low.graph, lambda i: low.calls[i].scratch_bytes, 16, shares,
                       [("fast", one.arena_size), ("slow", 1 << 20)])
    assert same.offsets == one.offsets and same.arena_size == one.arena_size
    assert not same.tensor_banks and [b.size for b in same.banks] == [one.arena_size, 0]
    split = plan_memory(low.graph, lambda i: low.calls[i].scratch_bytes, 16, shares,
                        [("fast", 10000), ("slow", 1 << 20)])
    split.check()                                       # no overlap per bank, all aligned
    assert split.arena_size <= 10000 and split.banks[1].size > 0
    assert split.total_size == split.arena_size + split.banks[1].size >= one.arena_size
    assert set(split.tensor_banks.values()) == {1}
    moved = sum(b.size for b in split.buffers if split.buffer_bank(b) == 1)
    assert moved >= split.banks[1].size


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
