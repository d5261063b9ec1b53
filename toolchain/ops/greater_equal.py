"""GREATER_EQUAL: element-wise comparison to a bool tensor, broadcast (comparison.py)."""
from __future__ import annotations

from .comparison import NUMERIC, ComparisonBase
from .registry import register

DTYPES = NUMERIC


@register
class GreaterEqual(ComparisonBase):
    kind = "GREATER_EQUAL"
    tflite_options = "GreaterEqualOptions"
    DTYPES = DTYPES
