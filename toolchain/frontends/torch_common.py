"""Shared pieces of the PyTorch frontend: the converter registry, layout permutations, the
Value a converter receives, and small helpers reading torch objects (torch itself is imported
only where a torch object is at hand)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError

NHWC = (0, 2, 3, 1)   # stored = torch.permute(NHWC) for a rank-4 activation
KEEP_WHOLE = ("linear", "hardswish", "hardsigmoid", "matmul", "reflection_pad1d",
              "reflection_pad2d", "reflection_pad3d")
FOLD_LIMIT = 256 << 20   # bytes a constant-folded op may allocate (sizes come from the file)
CONVERTERS: dict[str, Any] = {}   # "aten.<op>.<overload>" -> converter(builder, node, *args)


def converter(*targets: str):
    """Register a function as the converter of the given ATen op overloads."""
    def wrap(fn):
        for t in targets:
            if t in CONVERTERS:
                raise TypeError(f"torch converter for {t} registered twice")
            CONVERTERS[t] = fn
        return fn
    return wrap


def identity(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


def natural(rank: int) -> tuple[int, ...]:
    return NHWC if rank == 4 else identity(rank)


def inverse(p: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(p))


def compose(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """x.transpose(a).transpose(b) == x.transpose(compose(a, b))."""
    return tuple(int(a[i]) for i in b)


@dataclass(frozen=True)
class Value:
    """A torch activation: fitml tensor `tensor` holds torch_value.permute(perm)."""

    tensor: str
    perm: tuple[int, ...]


def first_line(exc: Exception) -> str:
    """`Type: first line of the message` (at most 200 characters of it)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200] if lines else ''}"


def target_name(node) -> str:
    t = node.target
    return str(t) if not callable(t) or hasattr(t, "_schema") else getattr(t, "__name__", str(t))


def flat(a) -> list:
    if isinstance(a, (list, tuple)):
        return [y for x in a for y in flat(x)]
    return [a]


def to_numpy(x):
    import torch  # lazy: torch is optional (fitml[torch])

    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.is_floating_point():
            x = x.float()
        return x.numpy().copy()
    if isinstance(x, (list, tuple)):
        return tuple(to_numpy(y) for y in x)
    return x


def lifted_constants(ep) -> dict[str, np.ndarray]:
    """Placeholder name -> numpy data for parameters, buffers and lifted constants."""
    out = {}
    for spec in ep.graph_signature.input_specs:
        kind = spec.kind.name
        if kind == "USER_INPUT":
            continue
        if kind not in ("PARAMETER", "BUFFER", "CONSTANT_TENSOR"):
            raise ModelError(f"graph input {spec.arg.name!r} of kind {kind} is not supported")
        data = ep.state_dict.get(spec.target)
        if data is None:
            data = ep.constants.get(spec.target)
        if data is None:
            raise ModelError(f"no data for {kind.lower()} {spec.target!r}")
        out[spec.arg.name] = to_numpy(data)
    return out
