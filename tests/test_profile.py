"""`fitml verify --profile` and `--flash`: instructions per op from a profile build's markers
(verify/profile.py, the insn_count plugin), the instruction mix, ESTIMATED cycles from a
per-core timing table (verify/cycles.py), and a core target with a chosen flash that links
like a board (too small: exit 1 naming the region and the bytes; tight: layouts dropped by
value, still bit-exact under QEMU; the harness's code measured, not guessed)."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from cli_util import fitml, one_clear_line
from conftest import shared_model
from toolchain.backends.c import emit_c, lower
from toolchain.frontends.tflite import load_tflite
from toolchain.ops.interpreter import run_graph
from toolchain.report.fit import with_overrides
from toolchain.targets import load_target
from toolchain.verify.cexec import run_qemu
from toolchain.verify.cycles import TIMINGS, timing_for
from toolchain.verify.profile import Span, render_text, spans
from toolchain.verify.qemu_build import build_qemu_layout, emulation_target, harness_layout

needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="Cortex-M toolchain or qemu-system-arm missing: run ./setup.sh")
KWS = "mlperf_tiny/kws/kws_ref_model_int8.tflite"


@pytest.fixture(scope="module")
def kws():
    return load_tflite(shared_model(KWS))


def lcg(graph):
    rng = np.random.default_rng(7)
    return [rng.integers(-128, 128, graph.tensors[n].shape).astype(np.int8)
            for n in graph.inputs]


def test_normal_build_does_not_mention_profiling(kws):
    normal = emit_c(kws, variant="dsp")
    profiled = emit_c(kws, variant="dsp", profile=True)
    assert "prof" not in normal["model.c"]
    calls = profiled["model.c"].count("fitml_prof_op();")
    assert calls == len(kws.ops) + 1
    # the same file but for the markers
    stripped = re.sub(r"\n    fitml_prof_op\(\);", "", profiled["model.c"])
    stripped = re.sub(r"\n/\* Profile build.*?\nvoid fitml_prof_op\(void\);\n", "", stripped,
                      flags=re.S)
    assert stripped == normal["model.c"]


def test_spans_add_up_to_the_run():
    marks = [(0, 0, 0, 0, 0), (10, 4, 0, 1, 0), (110, 40, 20, 9, 3), (130, 45, 20, 12, 3),
             (140, 48, 20, 13, 3)]
    ops, harness = spans(marks, [("a", "CONV_2D", 50), ("b", "SOFTMAX", 0)])
    assert [s.instructions for s in ops] == [100, 20]
    assert harness.instructions == 20 and harness.load_store == 7
    assert ops[0].other == 100 - 36 - 20 - 8
    assert sum(s.instructions for s in ops) + harness.instructions == marks[-1][0]
    with pytest.raises(ValueError):
        spans(marks[:-1], [("a", "CONV_2D", 50), ("b", "SOFTMAX", 0)])


def test_timing_table_names_its_source_and_estimates_from_the_mix():
    for core in ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"):
        t = timing_for(core)
        assert t is not None and ("Technical Reference Manual" in t.source
                                  or "TRM" in t.source), core
    m4 = TIMINGS["cortex-m4"]
    span = Span("x", "CONV_2D", 0, 100, 30, 20, 10, 4)     # 40 other
    assert m4.cycles(span.counts()) == 30 * 2 + 20 * 1 + 10 * 2 + 40 * 1 + 4 * 1
    assert timing_for("cortex-m0") is None


@needs_arm
def test_profile_sums_to_the_whole_run_on_kws(kws):
    x = lcg(kws)
    normal = run_qemu(kws, x, target="cortex-m4")
    run = run_qemu(kws, x, target="cortex-m4", profile=True)
    prof = run.stats["profile"]
    assert [s.kind for s in prof.ops] == [op.kind for op in kws.ops]
    # exact: the ops plus the harness part are the profile run's count
    assert prof.instructions == run.stats["instructions"]
    # the markers cost their call instruction (and a few register moves around it): the
    # profile build counts at most 3 per marker more than the normal build
    extra = run.stats["instructions"] - normal.stats["instructions"]
    assert 0 <= extra <= 3 * (len(kws.ops) + 1), extra
    # the harness part (input and output copies, entry, return) is small
    assert prof.harness.instructions < 0.001 * prof.instructions
    for s in prof.ops:
        assert s.load_store + s.multiply + s.branch <= s.instructions, s
    convs = [s for s in prof.ops if s.kind == "CONV_2D"]
    assert all(s.multiply > 0.2 * s.instructions for s in convs)   # SMLAD-bound
    for a, b in zip(normal.outputs, run.outputs):
        np.testing.assert_array_equal(a, b)
    d = prof.to_dict()
    assert d["est_cycles"] > d["instructions"] and d["est_ms"] is None   # a core: no clock
    assert "ESTIMATES" in render_text(d)


@needs_arm
def test_profile_on_a_board_gives_milliseconds(kws):
    run = run_qemu(kws, lcg(kws), target="nucleo-l476rg", profile=True)
    d = run.stats["profile"].to_dict()
    assert d["clock_hz"] == 80_000_000
    assert d["est_ms"] == pytest.approx(1000 * d["est_cycles"] / 80e6, rel=1e-3)


@needs_arm
def test_cli_verify_profile_says_the_cycles_are_estimates():
    proc = fitml("verify", shared_model(KWS), "--target", "cortex-m4", "--random", "1",
                 "--profile")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "DEPTHWISE_CONV_2D" in out and "est. cycles" in out
    assert "ESTIMATES" in out and "Technical Reference Manual" in out
    assert re.search(r"marker calls add \+\d+", out)


@needs_arm
def test_verify_too_small_flash_fails_to_link_naming_the_region():
    proc = fitml("verify", shared_model(KWS), "--target", "cortex-m4", "--flash", "40K",
                 "--random", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = one_clear_line(proc)
    assert re.search(r"region 'FLASH' overflowed by \d+ bytes", line), line
    assert "flash 40,960 B" in line


@needs_arm
def test_verify_tight_flash_drops_layouts_and_stays_bit_exact(kws):
    proc = fitml("verify", shared_model(KWS), "--target", "cortex-m4", "--flash", "66K",
                 "--random", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "flash 67,584 B" in proc.stdout
    assert proc.stdout.count("bit-exact") == 3          # host, qemu, tflm
    tight = int(re.search(r"([\d,]+) instructions per inference", proc.stdout)
                .group(1).replace(",", ""))
    full = run_qemu(kws, lcg(kws), target="cortex-m4").stats["instructions"]
    assert tight > full                                  # some layers on their int8 path


@needs_arm
def test_run_qemu_with_a_chosen_flash(tmp_path, kws):
    x = lcg(kws)[0]
    np.save(tmp_path / "x.npy", x)
    proc = fitml("run", shared_model(KWS), "--executor", "qemu", "--flash", "66K",
                 "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npz")
    assert proc.returncode == 0, proc.stderr
    got = np.load(tmp_path / "y.npz")["output_0"]
    np.testing.assert_array_equal(got, run_graph(kws, [x])[0])
    small = fitml("run", shared_model(KWS), "--executor", "qemu", "--flash", "40K",
                  "-i", tmp_path / "x.npy")
    assert small.returncode == 2 and "overflowed" in small.stderr


@needs_arm
def test_tight_flash_measures_the_code_instead_of_guessing_it():
    # hello_world's .tflite + 12 KB is less than the 16 KB code allowance fitml assumes before
    # building: the harness measures its code, and the layouts fit beside it
    path = shared_model("tflm/hello_world_int8.tflite")
    graph = load_tflite(path)
    budget = path.stat().st_size + 12 * 1024
    tgt = with_overrides(load_target("cortex-m4"), None, budget)
    emu = emulation_target(tgt)
    assert lower(graph, layout=harness_layout(emu, graph), variant="dsp").plain_layouts
    x = lcg(graph)
    tight = run_qemu(graph, x, target=tgt)
    full = run_qemu(graph, x, target="cortex-m4")
    assert tight.stats["instructions"] == full.stats["instructions"]
    assert tight.stats["text"] + tight.stats["rodata"] + tight.stats["data"] <= budget
    _, _, layout = build_qemu_layout(graph, tgt)
    assert not lower(graph, layout=layout, variant="dsp").plain_layouts
