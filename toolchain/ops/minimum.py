"""MINIMUM: element-wise smaller value with NumPy broadcasting (definition in extremum.py)."""
from __future__ import annotations

from .extremum import ExtremumBase
from .registry import register


@register
class Minimum(ExtremumBase):
    kind = "MINIMUM"
