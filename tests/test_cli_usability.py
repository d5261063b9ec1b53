"""The CLI as a newcomer meets it: --version, `fitml boards`, help that states every default,
install hints for optional packages, progress bars on a terminal only, `run --json` values, a
clear notice for an integer array fed to a float model."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios

import numpy as np

from cli_util import FITML, fitml, one_clear_line
from conftest import REPO
from toolchain.cli.entry import build_parser
from toolchain.version import __version__

EXAMPLE = REPO / "examples" / "mnist_cnn_int8.tflite"
FLOAT = REPO / "examples" / "mnist_cnn.onnx"
SAMPLE = REPO / "examples" / "mnist_sample_int8.npy"


def without(module: str, *args) -> subprocess.CompletedProcess:
    """fitml in a Python where `module` cannot be imported (as if not installed)."""
    code = (f"import sys; sys.modules[{module!r}] = None; from toolchain.cli import main; "
            f"sys.exit(main({[str(a) for a in args]!r}))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)


def test_version():
    proc = fitml("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"fitml {__version__}"


def test_version_module_is_the_installed_packages_version():
    import importlib.metadata
    assert importlib.metadata.version("fitml") == __version__   # .tflite files carry it


def test_boards_lists_core_memory_and_clock():
    proc = fitml("boards", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    f411 = rows["nucleo-f411re"]
    assert (f411["core"], f411["flash_bytes"], f411["ram_bytes"], f411["clock_hz"]) == \
        ("cortex-m4", 512 * 1024, 128 * 1024, 100_000_000)
    assert all(r["kind"] == "board" for r in rows.values()) and len(rows) >= 20
    text = fitml("boards")
    assert text.returncode == 0 and "nucleo-f411re" in text.stdout and "100 MHz" in text.stdout
    every = json.loads(fitml("boards", "--all", "--json").stdout)
    assert {"cortex-m4", "android-arm64"} <= {r["name"] for r in every}


def test_every_option_has_help_and_states_its_default():
    parser = build_parser()
    verbs = next(a for a in parser._actions if a.dest == "verb").choices
    for verb, sub in verbs.items():
        shown = sub._get_formatter()
        for action in sub._actions:
            if action.dest == "help":
                continue
            where = f"fitml {verb} {'/'.join(action.option_strings) or action.dest}"
            assert action.help, f"{where}: no help"
            if action.default not in (None, False, []) and not action.required:
                assert "default" in shown._get_help_string(action).lower(), where
    text = " ".join(fitml("compile", "--help").stdout.split())
    assert "(default: cortex-m4)" in text and "(default: minmax)" in text


def test_missing_matplotlib_names_the_extra(tmp_path):
    proc = without("matplotlib", "report", EXAMPLE, "--target", "nucleo-f411re",
                   "--no-measure", "--plot", tmp_path / "t.png")
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "matplotlib" in line and "pip install 'fitml[plot]'" in line


def test_missing_onnx_names_the_extra(tmp_path):
    proc = without("onnx", "inspect", FLOAT)
    assert proc.returncode == 2
    assert "pip install 'fitml[onnx]'" in one_clear_line(proc)


def test_verify_without_tflite_micro_skips_it():
    proc = without("tflite_micro", "verify", EXAMPLE, "-i", SAMPLE, "--random", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "tflm: skipped (tflite_micro not installed" in proc.stdout
    assert "MISMATCH" not in proc.stdout


def test_run_json_has_the_output_values():
    proc = fitml("run", EXAMPLE, "-i", SAMPLE, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)["outputs"][0]
    values = np.array(out["values"], dtype=out["dtype"]).reshape(out["shape"])
    assert values.shape == (1, 10) and values.dtype == np.int8


def test_integer_input_to_a_float_model_is_announced(tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.load(SAMPLE))            # int8 values, the float model takes float32
    proc = fitml("run", FLOAT, "-i", x)
    assert proc.returncode == 0, proc.stderr
    assert "int8" in proc.stderr and "float32" in proc.stderr and "not dequantized" in proc.stderr


def _on_a_terminal(*args) -> tuple[int, str]:
    """Run fitml with stderr on a pseudo-terminal; (exit code, what the terminal showed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    proc = subprocess.Popen([str(FITML), *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=600), b"".join(chunks).decode(errors="replace")


def test_progress_bars_on_a_terminal_only():
    code, shown = _on_a_terminal("verify", EXAMPLE, "--random", "4")
    assert code == 0 and "verify:" in shown and ("it/s" in shown or "s/it" in shown), shown
    piped = fitml("verify", EXAMPLE, "--random", "4")
    assert piped.returncode == 0 and "it/s" not in piped.stderr and "s/it" not in piped.stderr
