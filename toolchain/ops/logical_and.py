"""LOGICAL_AND on bool tensors (definition in logical.py)."""
from __future__ import annotations

from .logical import LogicalBinaryBase
from .registry import register


@register
class LogicalAnd(LogicalBinaryBase):
    kind = "LOGICAL_AND"
    tflite_options = "LogicalAndOptions"
