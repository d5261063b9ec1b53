"""Keep a library's own stderr output (C++ logging, tracebacks it prints) off the terminal while
it runs, so the user sees fitml's one-line error only."""
from __future__ import annotations

import contextlib
import os


@contextlib.contextmanager
def silenced_stderr():
    """File descriptor 2 points at /dev/null inside the block (a no-op when stderr is closed)."""
    try:
        saved = os.dup(2)
    except OSError:               # no stderr at all: nothing to silence
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
