"""ARG_MIN: the index of the smallest value along a constant axis (the axis is dropped), the
first one on ties, as TFLM's ArgMinMax with a strict less-than: ARG_MAX (arg_max.py) mirrored.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from .arg_max import DTYPES, ArgBase  # noqa: F401 (DTYPES: docs/gen.py reads it here)
from .registry import register


@register
class ArgMin(ArgBase):
    kind = "ARG_MIN"
    tflite_options = "ArgMinOptions"
    better = staticmethod(np.less)
    options = schema.ArgMinOptionsT
