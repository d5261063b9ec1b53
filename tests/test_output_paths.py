"""Where `fitml` writes (issue #13): -o replaces only fitml's own previous output (or with
--force), never a file, a link, '.', '/' or a folder holding an input; --prefix is a C
identifier prefix, never a path; --plot needs an existing folder; SIGTERM leaves no temp."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cli_util import FITML, fitml, one_clear_line
from conftest import REPO

EXAMPLES = REPO / "examples"
MODEL = EXAMPLES / "mnist_cnn_int8.tflite"
M4 = ("--target", "cortex-m4")


def compile_to(out, *extra, cwd=None) -> subprocess.CompletedProcess:
    return fitml("compile", MODEL, *M4, "-o", out, *extra, cwd=cwd)


def snapshot(root: Path) -> dict:
    """Every entry under `root` (hidden ones too): its kind and content or link target."""
    state = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                state[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                state[rel] = ("dir",)
            else:
                state[rel] = ("file", p.read_bytes())
    return state


def hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("previous_output", [False, True])
def test_a_user_file_in_the_output_folder_survives(tmp_path, previous_output):
    out = tmp_path / "out"
    if previous_output:
        assert compile_to(out).returncode == 0
    else:
        out.mkdir()
    (out / "my_app_file.c").write_text("int main(void) { return 0; }\n")
    before = snapshot(tmp_path)
    proc = compile_to(out)
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "my_app_file.c" in line and "--force" in line
    assert snapshot(tmp_path) == before


def test_a_previous_output_is_replaced_every_time(tmp_path):
    out = tmp_path / "out"
    assert compile_to(out, "--prefix", "digits").returncode == 0
    assert (out / "digits.h").is_file()
    for _ in range(2):
        proc = compile_to(out)
        assert proc.returncode == 0, proc.stderr
        assert (out / "model.h").is_file() and not (out / "digits.h").exists()
        listed = json.loads((out / ".fitml-output").read_text())["entries"]
        assert "model.c" in listed and "runtime_c/" in listed
        assert hidden(tmp_path) == []


def test_force_replaces_a_foreign_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    proc = compile_to(out, "--force")
    assert proc.returncode == 0, proc.stderr
    assert not (out / "notes.txt").exists() and (out / "model.c").is_file()
    assert hidden(tmp_path) == []


def _file(tmp_path):
    (tmp_path / "target").write_text("a user's file\n")


def _link(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "target").symlink_to("real")


def _dangling(tmp_path):
    (tmp_path / "target").symlink_to("nowhere")


@pytest.mark.parametrize("make", [_file, _link, _dangling])
def test_o_at_a_file_or_a_link_is_refused(tmp_path, make):
    make(tmp_path)
    before = snapshot(tmp_path)
    proc = compile_to(tmp_path / "target", "--force")
    assert proc.returncode == 2
    assert "target" in one_clear_line(proc)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("out", ["", ".", "/", ".."])
def test_o_at_the_working_folder_or_the_root_is_refused(tmp_path, out):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("x\n")
    before, root = snapshot(tmp_path), sorted(os.listdir("/"))
    proc = compile_to(out, "--force", cwd=work)
    assert proc.returncode == 2
    assert "-o" in one_clear_line(proc)
    assert snapshot(tmp_path) == before and sorted(os.listdir("/")) == root


def test_o_containing_the_working_folder_or_the_input_is_refused(tmp_path):
    work = tmp_path / "proj" / "work"
    work.mkdir(parents=True)
    proc = compile_to(tmp_path / "proj", "--force", cwd=work)
    assert proc.returncode == 2 and "working folder" in one_clear_line(proc)
    shutil.copyfile(MODEL, tmp_path / "proj" / "m.tflite")
    before = snapshot(tmp_path)
    proc = fitml("compile", tmp_path / "proj" / "m.tflite", *M4, "-o", tmp_path / "proj",
                 "--force")
    assert proc.returncode == 2 and "m.tflite" in one_clear_line(proc)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("prefix", ["../x", "/abs", "fitml", "FitML_net", "a-b", "x" * 300,
                                    "int", "__x", "9lives", ""])
def test_a_prefix_must_be_a_c_identifier_prefix(tmp_path, prefix):
    proc = compile_to(tmp_path / "out", "--prefix", prefix)
    assert proc.returncode == 2
    assert "--prefix" in one_clear_line(proc)
    assert list(tmp_path.iterdir()) == []


def test_the_api_checks_the_prefix_too(tmp_path):
    from toolchain import api
    from toolchain.errors import UsageError
    with pytest.raises(UsageError, match="--prefix"):
        api.compile(MODEL, "cortex-m4", tmp_path / "out", prefix="../escaped")
    assert list(tmp_path.iterdir()) == []


def _compile_killed_while_writing(out: Path) -> int | None:
    """Start a compile, SIGTERM it once its hidden temp folder appears; its exit code, or
    None when it finished before the temp folder was seen."""
    proc = subprocess.Popen([str(FITML), "compile", str(MODEL), *M4, "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while proc.poll() is None:
            if any(n.startswith(f".{out.name}.") for n in os.listdir(out.parent)):
                proc.send_signal(signal.SIGTERM)
                break
            time.sleep(0.002)
        else:
            return None
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode


@pytest.mark.parametrize("previous_output", [False, True])
def test_sigterm_during_a_compile_leaves_no_temp_folder(tmp_path, previous_output):
    out = tmp_path / "out"
    if previous_output:
        assert compile_to(out).returncode == 0
    before = snapshot(tmp_path)
    codes = [_compile_killed_while_writing(out) for _ in range(3)]
    assert 143 in codes, f"never caught a compile while it wrote (exit codes {codes})"
    assert hidden(tmp_path) == []
    if previous_output:             # the old output stays complete (or a new one replaced it)
        assert (out / ".fitml-output").is_file() and (out / "model.c").is_file()
    elif codes.count(143) == len(codes):
        assert snapshot(tmp_path) == before


@pytest.mark.parametrize("verb", ["report", "fit"])
def test_a_plot_into_a_missing_folder_is_refused(tmp_path, verb):
    plot = tmp_path / "missing" / "p.svg"
    if verb == "report":
        proc = fitml("report", MODEL, *M4, "--no-measure", "--plot", plot)
    else:
        proc = fitml("fit", EXAMPLES / "mnist_cnn.onnx", *M4, "--calib",
                     EXAMPLES / "mnist_calib.npy", "-o", tmp_path / "out", "--plot", plot)
    assert proc.returncode == 2
    assert "--plot" in one_clear_line(proc) and "missing" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_single_file_output_replaces_only_its_own_kind(tmp_path):
    run = ("run", MODEL, "-i", EXAMPLES / "mnist_sample_int8.npy", "-o")
    npz, notes = tmp_path / "out.npz", tmp_path / "notes.npz"
    assert fitml(*run, npz).returncode == 0 and fitml(*run, npz).returncode == 0
    notes.write_text("not an archive\n")
    proc = fitml(*run, notes)
    assert proc.returncode == 2 and "notes.npz" in one_clear_line(proc)
    assert notes.read_text() == "not an archive\n" and hidden(tmp_path) == []


def test_fit_replaces_a_previous_output_and_lists_its_own_files(tmp_path):
    out = tmp_path / "out"
    assert compile_to(out).returncode == 0
    proc = fitml("fit", EXAMPLES / "mnist_cnn.onnx", *M4, "--calib",
                 EXAMPLES / "mnist_calib.npy", "--val", EXAMPLES / "mnist_val.npz", "--flash",
                 "20K", "-o", out, "--no-measure")
    assert proc.returncode == 0, proc.stderr
    listed = json.loads((out / ".fitml-output").read_text())["entries"]
    assert {"fit.json", "pareto.svg", "model.c"} <= set(listed)
    assert hidden(tmp_path) == []
    assert compile_to(out).returncode == 0 and not (out / "fit.json").exists()
