"""Shape and dtype rules of binary element-wise ops (ADD, SUB, MUL, ...): NumPy broadcasting.

TFLite kernels apply the same per-element function whether or not the shapes broadcast, so
the numpy references broadcast with numpy and only the shape rule needs checking here.
"""
from __future__ import annotations

from typing import Sequence

from ..ir import GraphError, Tensor
from . import common

MAX_RANK = 6


def broadcast_shape(a: Sequence[int], b: Sequence[int], what: str = "op",
                    max_rank: int = MAX_RANK) -> tuple[int, ...]:
    """Right-aligned NumPy broadcast of two shapes (each dim equal, or one of them 1)."""
    a, b = tuple(int(d) for d in a), tuple(int(d) for d in b)
    rank = max(len(a), len(b))
    if rank > max_rank:
        raise GraphError(f"{what}: broadcasting {list(a)} with {list(b)}: rank {rank} "
                         f"exceeds the supported {max_rank}")
    pa, pb = (1,) * (rank - len(a)) + a, (1,) * (rank - len(b)) + b
    out = []
    for i, (x, y) in enumerate(zip(pa, pb)):
        if x != y and x != 1 and y != 1:
            raise GraphError(f"{what}: shapes {list(a)} and {list(b)} do not broadcast "
                             f"(dim {i - rank} is {x} vs {y})")
        out.append(y if x == 1 else x)
    return tuple(out)


def binary_infer(kind: str, ins: Sequence[Tensor | None],
                 dtypes: Sequence[str]) -> list[tuple[tuple[int, ...], str]]:
    """Output (shape, dtype) of a two-input element-wise op; both inputs share one dtype."""
    if len(ins) != 2:
        raise GraphError(f"{kind}: expects 2 inputs, got {len(ins)}")
    x = common.need(ins[0], "input 0", kind)
    y = common.need(ins[1], "input 1", kind)
    if x.dtype != y.dtype:
        raise GraphError(f"{kind}: input dtypes differ ({x.dtype} vs {y.dtype})")
    if x.dtype not in dtypes:
        raise GraphError(f"{kind}: dtype {x.dtype} not supported (supported: "
                         f"{', '.join(dtypes)})")
    return [(broadcast_shape(x.shape, y.shape, kind), x.dtype)]


def check_per_tensor(kind: str, tensors: Sequence[Tensor]) -> None:
    """Quantized element-wise ops need per-tensor (scale, zero point) on every operand."""
    for t in tensors:
        if t.quant is None:
            raise GraphError(f"{kind}: tensor {t.name!r} ({t.dtype}) has no quantization")
        if t.quant.scale.size != 1:
            raise GraphError(f"{kind}: tensor {t.name!r} must be quantized per tensor, "
                             f"has {t.quant.scale.size} scales")
