"""GREATER: element-wise comparison to a bool tensor, broadcast (definition in comparison.py)."""
from __future__ import annotations

from .comparison import NUMERIC, ComparisonBase
from .registry import register

DTYPES = NUMERIC


@register
class Greater(ComparisonBase):
    kind = "GREATER"
    tflite_options = "GreaterOptions"
    DTYPES = DTYPES
