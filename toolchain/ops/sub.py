"""SUB: element-wise difference with NumPy broadcasting and a fused activation.

Same int8 arithmetic as ADD (`addsub.py`), the second operand negated.
"""
from __future__ import annotations


from .addsub import AddSubBase
from .registry import register


@register
class Sub(AddSubBase):
    kind = "SUB"
    tflite_options = "SubOptions"
    SIGN = -1
