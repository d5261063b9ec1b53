"""`fitml check / compile / verify` use patch-based partitioning: vww fits a 48 KB board, the
--partition flag, compile partitions for a small board, verify with a forced grid."""
from __future__ import annotations

import json

import pytest

from cli_util import fitml, one_clear_line, write_board
from conftest import shared_model
from partition_cnns import KWS, VWW, needs_arm
from toolchain.frontends.tflite import load_tflite
from toolchain.ops.patched_stage import KIND


@pytest.fixture
def board(tmp_path):
    return write_board(tmp_path / "m4-48k.toml", "m4-48k", {"sram": (0x20000000, "48K")})


@needs_arm
def test_check_vww_fits_48k_thanks_to_partitioning(board):
    model = shared_model(VWW)
    proc = fitml("check", model, "--target", board, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    d = json.loads(proc.stdout)
    p = d["partition"]
    sram = next(r for r in d["regions"] if r["name"] == "sram")
    assert d["fits"] and p["applied"] and p["mode"] == "auto"
    assert p["peak_before_bytes"] > 48 * 1024 >= sram["used"]
    assert p["peak_after_bytes"] == d["activations_peak_bytes"] and p["mac_overhead"] <= 0.15
    assert d["stack_bytes"] > 0                         # measured, not guessed
    assert "thanks to patch-based partitioning" in d["verdict"]
    assert f"{sram['headroom']:,} B of sram to spare" in d["verdict"]
    text = fitml("check", model, "--target", board)
    assert text.returncode == 0 and "partitioned (auto): ops" in text.stdout
    off = fitml("check", model, "--target", board, "--partition", "off", "--no-measure")
    assert off.returncode == 1 and "region 'sram' overflows" in one_clear_line(off)


def test_check_partition_flag(board):
    model = shared_model(VWW)
    # 4x4's 33,584 B arena needs 48K + 1K: the build links the declared 16 KB stack beside it
    code = fitml("check", model, "--target", board, "--partition", "4x4", "--no-measure",
                 "--ram", "50K", "--format", "json")
    d = json.loads(code.stdout)
    assert code.returncode == 0 and d["partition"]["mode"] == "4x4"
    assert all(s["grid"] == [4, 4] for s in d["partition"]["stages"])
    bad = fitml("check", model, "--target", board, "--partition", "4by4", "--no-measure")
    assert bad.returncode == 2 and "--partition '4by4'" in one_clear_line(bad)
    tight = fitml("check", model, "--target", board, "--ram", "20K", "--no-measure")
    assert tight.returncode == 1 and "no patch-based partition fits" in tight.stdout


def test_compile_partitions_when_the_board_is_small(board, tmp_path):
    out = tmp_path / "vww_c"
    proc = fitml("compile", shared_model(VWW), "--target", board, "-o", out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["partition"]["peak_after_bytes"] == report["arena_bytes"] <= 48 * 1024
    assert "partitioned (auto)" in proc.stdout
    assert "a patch-based stage" in (out / "model.c").read_text()
    kinds = [op.kind for op in load_tflite(out / "model.tflite").ops]   # the unsplit ops
    assert KIND not in kinds and kinds == [op.kind for op in load_tflite(
        shared_model(VWW)).ops]


@needs_arm
def test_verify_with_a_forced_grid(tmp_path):
    proc = fitml("verify", shared_model(KWS), "--partition", "5x1", "--random", "1", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    d = json.loads(proc.stdout)
    assert d["bit_exact"] and d["partition"]["unpartitioned_bit_exact"]
