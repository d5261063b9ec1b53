"""Progress bars for the slow loops (calibration, `fit`'s candidates, `verify`'s inputs): tqdm
on stderr when stderr is a terminal, nothing in a pipe, a log or CI."""
from __future__ import annotations

import sys
from typing import Iterable


def progress_bar(items: Iterable, progress: bool | None, desc: str, total: int | None = None):
    """A tqdm bar on stderr; silent (the items as they are) when stderr is not a TTY or when
    progress is False."""
    if progress is False or not sys.stderr.isatty():
        return items
    from tqdm import tqdm  # lazy: 50-90 ms of imports (importlib.metadata) no pipe or CI needs
    return tqdm(items, desc=desc, total=total, file=sys.stderr, leave=False)
