"""Run the real `fitml` console script as a user would, capturing exit code and output."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FITML = Path(sys.executable).with_name("fitml")


def fitml(*args, timeout: float = 600, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(FITML), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def one_clear_line(proc: subprocess.CompletedProcess) -> str:
    """The error output must be a single line and never a Python traceback."""
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    return err
