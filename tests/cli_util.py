"""Run the real `fitml` console script as a user would, capturing exit code and output."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FITML = Path(sys.executable).with_name("fitml")


def fitml(*args, timeout: float = 600, cwd=None, env=None) -> subprocess.CompletedProcess:
    """`env`: variables set on top of this process's environment."""
    return subprocess.run([str(FITML), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})})


def one_clear_line(proc: subprocess.CompletedProcess) -> str:
    """The error output must be a single line and never a Python traceback."""
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    return err


def write_board(path: Path, name: str, rams: dict[str, tuple[int, str]],
                core: str = "cortex-m4", flash: str = "1M") -> Path:
    """A test board file: `flash` at 0, then each RAM region name -> (base, size)."""
    text = [f'name = "{name}"', 'kind = "board"', f'core = "{core}"',
            f'description = "test board: {core}, RAM {", ".join(rams)}"', "",
            "[[regions]]", 'name = "flash"', 'kind = "flash"', "base = 0x00000000",
            f'size = "{flash}"']
    for region, (base, size) in rams.items():
        text += ["", "[[regions]]", f'name = "{region}"', 'kind = "ram"', f"base = {base:#010x}",
                 f'size = "{size}"']
    path.write_text("\n".join(text) + "\n")
    return path
