"""The ONNX frontend's vocabulary: decoded nodes, where a value lives (its layout permutation),
the permutation helpers and the converter table the onnx_*ops modules fill with @converter."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

NHWC = (0, 2, 3, 1)   # stored = onnx.transpose(NHWC) for a rank-4 activation
NCHW = (0, 3, 1, 2)   # its inverse
NWC = (0, 2, 1)       # stored = onnx.transpose(NWC) for a 1-D conv/pool activation [N, C, L]

# ONNX op type -> converter(builder, node); filled by @converter in the onnx_*ops modules
CONVERTERS: dict[str, Callable[..., None]] = {}


def converter(*op_types: str):
    """Register a function as the converter of the given ONNX op types."""
    def wrap(fn):
        for t in op_types:
            if t in CONVERTERS:
                raise TypeError(f"ONNX converter for {t} registered twice")
            CONVERTERS[t] = fn
        return fn
    return wrap


def identity(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


def compose(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """x.transpose(a).transpose(b) == x.transpose(compose(a, b))."""
    return tuple(int(a[i]) for i in b)


def inverse(p: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(p))


def natural(rank: int) -> tuple[int, ...]:
    """The layout an op output of this rank is stored in: NHWC for rank 4."""
    return NHWC if rank == 4 else identity(rank)


@dataclass(frozen=True)
class OnnxNode:
    """One ONNX node with decoded attributes ("" marks an absent optional input)."""

    op_type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict)

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    def input(self, i: int) -> str:
        return self.inputs[i] if i < len(self.inputs) else ""


@dataclass(frozen=True)
class Value:
    """Where an ONNX activation lives: a fitml tensor holding onnx_array.transpose(perm)."""

    tensor: str
    perm: tuple[int, ...]
