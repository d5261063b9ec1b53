"""Metadata quirks of published .tflite files that TFLite Micro tolerates, so fitml does too.

Each quirk is one row of `QUIRKS`: when it matches, what fitml reads instead, and why that is
what TFLite Micro computes with (a quirk is accepted only when the results stay TFLM's). The
reader calls `tensor_quant_axis` for every quantized tensor and `quirk_warnings` once per file:
one line per quirk, naming its first tensor, which the reader prints on stderr.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from ..util.text import printable


@dataclass(frozen=True)
class TensorFacts:
    """What a quirk may look at: a tensor's shape, dtype, constness and quantization."""
    shape: tuple[int, ...]
    dtype: str
    is_const: bool
    scales: int
    axis: int


@dataclass(frozen=True)
class Quirk:
    name: str
    matches: Callable[[TensorFacts], bool]
    axis: Callable[[TensorFacts], int]      # the quantized dimension fitml reads instead
    what: str                               # the quirk, as the warning states it
    why: str                                # what TFLite Micro does with it


QUIRKS: tuple[Quirk, ...] = (
    Quirk("bias-quantized-dimension",
          matches=lambda t: (len(t.shape) == 1 and t.is_const and t.dtype in ("int32", "int64")
                             and t.scales == t.shape[0] and t.axis != 0),
          axis=lambda t: 0,
          what="1-D per-channel bias with quantized_dimension {axis} (only 0 exists)",
          why="read as 0: TFLite Micro ignores a bias's quantized dimension, results unchanged"),
)


def tensor_quant_axis(facts: TensorFacts) -> tuple[int, Quirk | None]:
    """(the quantized dimension to use, the quirk that chose it or None)."""
    for quirk in QUIRKS:
        if quirk.matches(facts):
            return quirk.axis(facts), quirk
    return facts.axis, None


def quirk_warnings(found: Sequence[tuple[Quirk, str, TensorFacts]],
                   where: str) -> list[str]:
    """One line per quirk: its first tensor, how many more, what fitml does and why."""
    lines = []
    for quirk in dict.fromkeys(q for q, _, _ in found):
        hits = [(name, facts) for q, name, facts in found if q is quirk]
        name, facts = hits[0]
        more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
        lines.append(printable(f"fitml: warning: {where}: tensor {name}{more}: "
                               f"{quirk.what.format(axis=facts.axis)}; {quirk.why}"))
    return lines
