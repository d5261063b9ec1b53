"""The executor registry: one calling convention for every executor, (graph, inputs,
**options) -> RunResult; executors.py and cexec.py register theirs with `@executor`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import FitmlError


@dataclass
class RunResult:
    outputs: list[np.ndarray]
    stats: dict = field(default_factory=dict)


Executor = Callable[..., RunResult]
_EXECUTORS: dict[str, Executor] = {}


def executor(name: str):
    def wrap(fn: Executor) -> Executor:
        _EXECUTORS[name] = fn
        return fn
    return wrap


def get_executor(name: str) -> Executor:
    if name not in _EXECUTORS:
        raise FitmlError(f"unknown executor {name!r}; available: {', '.join(sorted(_EXECUTORS))}")
    return _EXECUTORS[name]


def names() -> list[str]:
    return sorted(_EXECUTORS)
