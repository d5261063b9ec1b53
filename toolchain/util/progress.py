"""Progress bars for the slow loops (calibration, `fit`'s candidates, `verify`'s inputs): tqdm
on stderr when stderr is a terminal, nothing in a pipe, a log or CI."""
from __future__ import annotations

import sys
from typing import Iterable

from tqdm import tqdm


def progress_bar(items: Iterable, progress: bool | None, desc: str, total: int | None = None):
    """A tqdm bar on stderr; silent when stderr is not a TTY or when progress is False."""
    quiet = progress is False or not sys.stderr.isatty()
    return tqdm(items, desc=desc, total=total, file=sys.stderr, disable=quiet, leave=False)
