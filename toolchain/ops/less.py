"""LESS: element-wise comparison to a bool tensor, broadcast (definition in comparison.py)."""
from __future__ import annotations

from .comparison import NUMERIC, ComparisonBase
from .registry import register

DTYPES = NUMERIC


@register
class Less(ComparisonBase):
    kind = "LESS"
    tflite_options = "LessOptions"
    DTYPES = DTYPES
