"""MAX_POOL_2D: max of the raw values over the window clipped to the image, then the clamp."""
from __future__ import annotations

import numpy as np

from . import common
from .average_pool_2d import Pool2D
from .registry import Node, register


@register
class MaxPool2D(Pool2D):
    kind = "MAX_POOL_2D"

    @staticmethod
    def reference(node: Node, args):
        x, out = args[0], node.outs[0]
        act = node.attr("activation", "NONE")
        if not node.quantized:
            # padded taps hold -inf so they never win (the image part is never empty)
            peak = Pool2D.windows(node, x.astype(np.float32), -np.inf).max(axis=(3, 4))
            return [common.float_clamp(peak, act)]
        peak = Pool2D.windows(node, x, np.iinfo(x.dtype).min).max(axis=(3, 4))
        lo, hi = Pool2D.bounds(node)
        return [np.clip(peak, lo, hi).astype(out.dtype)]
