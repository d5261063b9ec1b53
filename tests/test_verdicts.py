"""One truth: `fitml check`'s verdict is what the board-sized build does (`verify --target
BOARD` links and runs bit-exact under QEMU). A fast sample of benchmarks/verdicts.py: an int8
anomaly-detection CNN (TF converter) whose first layers run patch by patch on nucleo-l476rg's
two SRAM banks, a shared model on a small board, and the RAM boundary pair of a verdict; plus
the partition search finding a grid whenever a fixed NxM grid fits.
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from conftest import shared_model
from toolchain.api import load
from toolchain.backends.cpartition import FALLBACK_GRIDS, choose
from toolchain.report.fit import fit_partitioned
from verdict_models import ad_cnn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import verdicts  # noqa: E402

needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="Cortex-M toolchain or qemu-system-arm missing: run ./setup.sh")
BOARD = "nucleo-l476rg"          # SRAM1 96 KB + SRAM2 32 KB


@pytest.fixture(scope="module")
def ad_models(tmp_path_factory) -> dict[str, Path]:
    """Two anomaly-detection CNNs: 96x96 (188 KB of activations layer by layer: partitioned)
    and 64x64 (85 KB: spills into SRAM2)."""
    pytest.importorskip("tensorflow")
    out = tmp_path_factory.mktemp("ad")
    paths = {}
    for h in (96, 64):
        paths[h] = out / f"ad_{h}.tflite"
        paths[h].write_bytes(ad_cnn(h, h, 16))
    paths[80] = out / "ad_80x24.tflite"       # 24 maps: the greedy search alone missed 4x4
    paths[80].write_bytes(ad_cnn(80, 80, 24))
    return paths


def assert_agrees(outcome) -> None:
    assert outcome.check_rc in (0, 1), f"{outcome.case.label()}: check {outcome.check_line}"
    assert outcome.agrees, (f"{outcome.case.label()}: check exit {outcome.check_rc} "
                            f"({outcome.check_line}) but the build exit {outcome.verify_rc} "
                            f"({outcome.verify_line})")


@needs_arm
def test_partitioned_two_bank_model_check_equals_build(ad_models):
    out = verdicts.run_case(verdicts.Case(str(ad_models[96]), BOARD))
    assert_agrees(out)
    assert out.check_rc == 0, out.check_line       # fits thanks to partitioning, and links


@needs_arm
def test_ram_boundary_pair_check_equals_build(ad_models):
    first = verdicts.run_case(verdicts.Case(str(ad_models[64]), BOARD))
    assert_agrees(first)
    pair = [c for c in verdicts.sweep(first, 256) if c.ram]
    assert len(pair) == 2
    for out in verdicts.run_all(pair, 1):
        assert_agrees(out)


@needs_arm
def test_shared_model_small_board_check_equals_build():
    out = verdicts.run_case(verdicts.Case(
        str(shared_model("mlperf_tiny/kws/kws_ref_model_int8.tflite")), "nucleo-f411re"))
    assert_agrees(out)


@pytest.mark.parametrize("size,ram", [(80, 40_000), (96, 60_000)])
def test_auto_finds_a_partition_whenever_a_fixed_grid_fits(ad_models, size, ram):
    graph = load(ad_models[size])
    auto = fit_partitioned(graph, BOARD, ram=ram, measure=False)
    fixed = {g: fit_partitioned(graph, BOARD, ram=ram, measure=False, partition=g).fits
             for g in ((2, 2), (3, 3), (4, 4))}
    assert (2, 2) in FALLBACK_GRIDS and (4, 4) in FALLBACK_GRIDS
    if size == 80:       # before: "no patch-based partition fits ..." although 4x4 did
        assert fixed[(4, 4)], fixed
    if any(fixed.values()):
        assert auto.fits, (ram, fixed, auto.verdict(), auto.partition)
    reason = (auto.partition or {}).get("reason", "")
    assert auto.fits or reason, auto.verdict()


def test_no_partition_message_does_not_contradict_its_numbers(ad_models):
    choice = choose(load(ad_models[96]), BOARD, "auto", reserve_ram=80_000)
    assert choice.found is None and choice.reason
    # "fits the N B ... (the lowest found: M B" with M < N must say why it still does not fit
    nums = [int(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*) B", choice.reason)]
    room, lowest = nums[0], nums[-1] if "lowest" in choice.reason else None
    if lowest is not None and lowest <= room:
        assert "do not fit the banks" in choice.reason, choice.reason


def test_verdict_explains_a_build_that_does_not_link(ad_models):
    import dataclasses
    rep = fit_partitioned(load(ad_models[64]), BOARD, measure=False)
    assert rep.fits and not rep.bank_overflows, rep.verdict()
    over = dataclasses.replace(rep, bank_overflows=(("sram1", 90_000, 81_920),))
    assert not over.fits
    line = over.verdict()
    assert line.startswith(f"does not fit {BOARD}: the plan puts 90,000 B of activations in "
                           "sram1, which has 81,920 B for them"), line
    assert "declared stack + heap, 16,384 B" in line, line
    bad = dataclasses.replace(rep, measurement=dataclasses.replace(
        rep.measurement, link="link failed: region 'RAM' overflowed by 58752 bytes"))
    # a failed link does not decide the verdict (int4 / pruned builds still emit arrays the
    # table does not count: tests/test_compress_fit.py), but the verdict line says so
    assert "the board-sized build does not link: link failed: region 'RAM' overflowed by " \
        "58752 bytes" in bad.verdict(), bad.verdict()
