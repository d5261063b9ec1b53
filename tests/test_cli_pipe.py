"""A reader that leaves early (`fitml inspect m.tflite | head -1`) ends fitml quietly, as it
ends cat: exit 141 (SIGPIPE's shell code), nothing on stderr, no internal error."""
from __future__ import annotations

import subprocess
from pathlib import Path

from cli_util import FITML

MODEL = Path(__file__).resolve().parents[1] / "examples" / "mnist_cnn_int8.tflite"


def test_closed_stdout_is_not_an_internal_error():
    proc = subprocess.Popen([str(FITML), "inspect", str(MODEL)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()                       # the reader is gone before fitml prints
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == "", err
