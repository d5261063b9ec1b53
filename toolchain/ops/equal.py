"""EQUAL: element-wise comparison to a bool tensor, broadcast (definition in comparison.py)."""
from __future__ import annotations

from .comparison import ComparisonBase
from .registry import register


@register
class Equal(ComparisonBase):
    kind = "EQUAL"
    tflite_options = "EqualOptions"
