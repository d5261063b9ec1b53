"""LOGICAL_NOT on bool tensors (definition in logical.py)."""
from __future__ import annotations

from .logical import LogicalNotBase
from .registry import register


@register
class LogicalNot(LogicalNotBase):
    kind = "LOGICAL_NOT"
    tflite_options = "LogicalNotOptions"
