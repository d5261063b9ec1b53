"""`fitml check`'s result cache (toolchain/cli/memo.py): an unchanged check prints what it
printed before without importing numpy; any changed input (the model's bytes, a board file,
the arguments) checks again; `--plot` and FITML_RESULT_CACHE=0 are never answered from it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import shared_model

MODEL = "tflm/hello_world_int8.tflite"
PROBE = ("import sys; from toolchain.cli import main; code = main(sys.argv[1:]); "
         "print('NUMPY' if 'numpy' in sys.modules else 'NO-NUMPY', file=sys.stderr); "
         "sys.exit(code)")


def check(args, cache, **env):
    proc = subprocess.run([sys.executable, "-c", PROBE, "check", *args], capture_output=True,
                          text=True, env={**os.environ, "FITML_CACHE": str(cache), **env},
                          timeout=600)
    err = proc.stderr.splitlines()
    return proc.returncode, proc.stdout, "\n".join(err[:-1]), err[-1]


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m.tflite"
    shutil.copy(shared_model(MODEL), path)
    return path


def results(cache) -> list:
    return sorted(p.name for p in (cache / "builds").glob("result-*.json"))


def test_an_unchanged_check_is_answered_without_loading_anything(tmp_path, model):
    cache = tmp_path / "cache"
    args = [str(model), "--target", "nucleo-f411re", "--format", "json"]
    first = check(args, cache)
    assert first[0] == 0 and first[3] == "NUMPY", first
    assert len(results(cache)) == 1
    again = check(args, cache)
    assert again == first[:3] + ("NO-NUMPY",), (first, again)
    assert json.loads(again[1])["fits"] is True


def test_a_changed_input_checks_again(tmp_path, model):
    cache = tmp_path / "cache"
    args = [str(model), "--target", "cortex-m4", "--no-measure"]
    assert check(args, cache)[3] == "NUMPY"
    assert check(args + ["--ram", "64K"], cache)[3] == "NUMPY"       # other arguments
    shutil.copy(shared_model("tflm/micro_speech_quantized.tflite"), model)   # same path
    assert check(args, cache)[3] == "NUMPY"                          # other model bytes
    assert check(args, cache)[3] == "NO-NUMPY"
    assert len(results(cache)) == 3


def test_a_changed_board_file_checks_again(tmp_path, model):
    cache, board = tmp_path / "cache", tmp_path / "b.toml"
    text = ('name = "b"\ncore = "cortex-m4"\n[[regions]]\nname = "flash"\nkind = "flash"\n'
            'base = 0x08000000\nsize = {flash}\n[[regions]]\nname = "ram"\nkind = "ram"\n'
            'base = 0x20000000\nsize = 65536\n')
    board.write_text(text.format(flash=262144))
    args = [str(model), "--target", str(board), "--no-measure"]
    assert check(args, cache)[0] == 0
    assert check(args, cache)[3] == "NO-NUMPY"
    board.write_text(text.format(flash=256))
    code, _, err, probe = check(args, cache)
    assert (code, probe) == (1, "NUMPY") and "does not fit" in err, err
    again = check(args, cache)
    assert again[0] == 1 and again[2] == err and again[3] == "NO-NUMPY"   # exit 1 replays too


def test_plot_and_the_switch_are_never_answered_from_the_cache(tmp_path, model):
    cache = tmp_path / "cache"
    args = [str(model), "--target", "cortex-m4", "--no-measure"]
    check(args, cache)
    assert check(args, cache, FITML_RESULT_CACHE="0")[3] == "NUMPY"
    plot = args + ["--plot", str(tmp_path / "t.svg")]
    assert check(plot, cache)[3] == "NUMPY" and check(plot, cache)[3] == "NUMPY"
    assert (tmp_path / "t.svg").is_file()
