"""GREATER_EQUAL: element-wise comparison to a bool tensor, broadcast (comparison.py)."""
from __future__ import annotations

from .comparison import ComparisonBase
from .registry import register


@register
class GreaterEqual(ComparisonBase):
    kind = "GREATER_EQUAL"
    tflite_options = "GreaterEqualOptions"
