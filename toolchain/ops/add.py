"""ADD: element-wise sum with NumPy broadcasting and a fused activation (float32, int8, int32).

The int8 arithmetic lives in `addsub.py`, shared with SUB.
"""
from __future__ import annotations


from .addsub import AddSubBase
from .registry import register


@register
class Add(AddSubBase):
    kind = "ADD"
    tflite_options = "AddOptions"
    SIGN = 1
