"""`fitml check` / `fitml report` through the real console script: exit 0 fits, 1 does not,
2 error (unknown board, malformed size, malformed board file), and their outputs."""
from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from cli_util import fitml, one_clear_line
from conftest import shared_model

VWW = "mlperf_tiny/vww/vww_96_int8.tflite"
VWW_FLOAT = "mlperf_tiny/vww/vww_96_float.tflite"
KWS = "mlperf_tiny/kws/kws_ref_model_int8.tflite"
needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="Cortex-M toolchain or qemu-system-arm missing: run ./setup.sh")
CONTRACT = ("fits", "target", "regions", "activations_peak_bytes", "weights_bytes",
            "code_bytes", "stack_bytes")


def check_json(*args) -> tuple[int, dict, str]:
    proc = fitml("check", *args, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@needs_arm
def test_fits_exit_0_and_does_not_fit_exit_1_measured():
    # VWW int8 (55,296 B arena) in the SparkFun Edge's 64 KB TCM, code and stack measured;
    # one test, so the second run reuses the first one's build
    proc = fitml("check", shared_model(VWW), "--target", "sparkfun-edge")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "VERDICT: fits sparkfun-edge" in proc.stdout and not proc.stderr
    assert re.search(r"code [\d,]+ B, stack [\d,]+ B", proc.stdout), proc.stdout
    # (its 64 KB TCM is not enough with 16 KB kept for the application, but the board's SRAM
    # bank takes the rest of the activations: still fits)
    code, d, err = check_json(shared_model(VWW), "--target", "sparkfun-edge",
                              "--reserve-ram", "16K")
    assert code == 0 and d["fits"] is True
    # a board with one RAM bank: keeping 80 KB of its 128 KB for the application does not fit;
    # the message names the region, the overflow and the largest consumers
    code, d, err = check_json(shared_model(VWW), "--target", "nucleo-f411re",
                              "--reserve-ram", "80K", "--partition", "off")
    assert code == 1 and d["fits"] is False and d["stack_bytes"] > 0
    ram = next(r for r in d["regions"] if r["kind"] == "ram")
    over = ram["used"] - ram["capacity"]
    assert over > 0 and d["overflows"] == [{"region": ram["name"], "overflow_bytes": over,
                                            "largest": d["overflows"][0]["largest"]}]
    line = one_clear_line(SimpleNamespace(stderr=err))
    assert f"region '{ram['name']}' overflows by {over:,} B" in line, line
    assert "largest consumers: " in line and "activation arena" in line, line
    assert "reserved for the application" in line and "stack" in line, line


def test_fits_big_board_not_small_one():
    # VWW float: 221 KB of activations, 843 KB of weights
    model = shared_model(VWW_FLOAT)
    code, d, err = check_json(model, "--target", "nucleo-l4r5zi", "--no-measure")
    assert code == 0 and d["fits"] and not err
    assert all(key in d for key in CONTRACT)
    assert all({"name", "kind", "used", "capacity"} <= set(r) for r in d["regions"])
    assert d["code_bytes"] is None and d["stack_bytes"] is None   # --no-measure: not guessed
    code, d, err = check_json(model, "--target", "nucleo-f411re", "--no-measure",
                              "--partition", "off")    # auto would run it patch by patch
    assert code == 1 and {o["region"] for o in d["overflows"]} == {"flash", "sram"}
    assert "region 'flash' overflows" in err and "region 'sram' overflows" in err
    assert fitml("check", model, "--target", "arduino-nano33-ble-sense",
                 "--no-measure").returncode == 0


def test_ram_and_flash_overrides_tighten_and_widen():
    model = shared_model(KWS)
    code, d, _ = check_json(model, "--target", "nucleo-f411re", "--ram", "8K", "--no-measure",
                            "--partition", "off")      # the hopeless patch search: 8 s
    assert code == 1 and d["overrides"]["ram"] == 8192
    assert d["overflows"][0]["overflow_bytes"] == d["activations_peak_bytes"] - 8192
    code, d, _ = check_json(model, "--target", "nucleo-f411re", "--flash", "0x4000",
                            "--ram", "1M", "--no-measure")
    assert code == 1 and [o["region"] for o in d["overflows"]] == ["flash"]
    assert next(r for r in d["regions"] if r["name"] == "sram")["capacity"] == 1 << 20


def test_unknown_board_exit_2_suggests_close_names():
    proc = fitml("check", shared_model(KWS), "--target", "nucleo-f411")
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "unknown target 'nucleo-f411'" in line and "did you mean 'nucleo-f411re'" in line


@pytest.mark.parametrize("flag", ["--ram", "--flash", "--reserve-ram"])
def test_malformed_size_exit_2(flag):
    proc = fitml("check", shared_model(KWS), "--target", "nucleo-f411re", flag, "12Q")
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert f"{flag} '12Q'" in line and "256K" in line and "1M" in line and "0x" in line, line


BOARD = ('name = "myboard"\ncore = "cortex-m4"\n{top}'
         '[[regions]]\nname = "flash"\nkind = "flash"\nbase = 0x08000000\nsize = {flash}\n'
         '[[regions]]\nname = "sram"\nkind = "ram"\nbase = 0x20000000\nsize = "64K"\n')


@pytest.mark.parametrize("top,flash,key", [
    ("", '"12Q"', "regions[flash].size"),
    ("", "12Q", "size"),                                  # not even TOML
    ('clock_hz = "fast"\n', '"512K"', "clock_hz"),
    ('stack_size = "big"\n', '"512K"', "stack_size"),
    ('cflags = "-O2"\n', '"512K"', "cflags"),
])
def test_malformed_board_toml_exit_2_names_the_key(tmp_path, top, flash, key):
    path = tmp_path / "myboard.toml"
    path.write_text(BOARD.format(top=top, flash=flash))
    proc = fitml("check", shared_model(KWS), "--target", path, "--no-measure")
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert str(path) in line and f"key '{key}'" in line, line


def test_user_board_file_fits(tmp_path):
    path = tmp_path / "myboard.toml"
    path.write_text(BOARD.format(top="clock_hz = 64000000\n", flash='"512K"'))
    code, d, _ = check_json(shared_model(KWS), "--target", path, "--no-measure")
    assert code == 0 and d["target"] == "myboard"


def test_report_verb_exit_0_even_when_it_does_not_fit(tmp_path):
    plot = tmp_path / "timeline.svg"
    proc = fitml("report", shared_model(KWS), "--target", "nucleo-f411re", "--ram", "4K",
                 "--format", "md", "--plot", plot, "--no-measure", "--partition", "off")
    assert proc.returncode == 0, proc.stderr
    assert "does not fit nucleo-f411re" in proc.stdout
    assert "| region | kind | capacity (B) | used (B) | headroom (B) | use | contents |" \
        in proc.stdout
    assert ET.parse(plot).getroot().tag.endswith("svg")
    text = fitml("report", shared_model(KWS), "--target", "nucleo-f411re", "--no-measure")
    assert text.returncode == 0 and "VERDICT: fits" in text.stdout
    assert re.search(r"^\*\d+ +\w+", text.stdout, re.M), "the peak op is not marked"


def test_ci_doc_workflow_is_valid_and_its_command_parses():
    yaml = pytest.importorskip("yaml")
    from conftest import REPO
    from toolchain.cli import build_parser
    text = (REPO / "docs" / "ci.md").read_text()
    workflow = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
    steps = workflow["jobs"]["fit"]["steps"]
    script = next(s["run"] for s in steps if "fitml check" in s.get("run", ""))
    assert "$GITHUB_STEP_SUMMARY" in script and "exit $status" in script
    for board in workflow["jobs"]["fit"]["strategy"]["matrix"]["board"]:
        line = script.split("fitml check", 1)[1].split(">", 1)[0].replace("\\\n", " ")
        argv = ["check"] + line.replace("${{ matrix.board }}", board).split()
        args = build_parser().parse_args(argv)
        assert (args.target, args.format, args.reserve_ram) == ([board], "md", "24K")
        assert fitml("check", shared_model(KWS), "--target", board, "--reserve-ram", "24K",
                     "--no-measure").returncode == 0
