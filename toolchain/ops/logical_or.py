"""LOGICAL_OR on bool tensors (definition in logical.py)."""
from __future__ import annotations

from .logical import LogicalBinaryBase
from .registry import register


@register
class LogicalOr(LogicalBinaryBase):
    kind = "LOGICAL_OR"
    tflite_options = "LogicalOrOptions"
