"""Transposed convolutions of the frontends (ONNX ConvTranspose, torch conv_transpose2d, Keras
Conv2DTranspose) as TFLite's TRANSPOSE_CONV. Their output row is in * stride - before + tap
(`before` the framework's leading padding), TFLite's is in * stride - pad + tap with pad set by
SAME / VALID from the output size: the padding that places the rows the same way, else VALID
over the whole scatter and a crop of the framework's rows."""
from __future__ import annotations

from ..ops import common


def tflite_geometry(in_hw, kernel, strides, before, out_hw):
    """(padding, the TRANSPOSE_CONV's output (H, W), crop start (top, left) or None)."""
    for padding in ("SAME", "VALID"):
        if all(common.out_size(o, k, s, 1, padding) == i
               and common.pad_before(o, k, s, 1, common.out_size(o, k, s, 1, padding)) == p
               for i, k, s, p, o in zip(in_hw, kernel, strides, before, out_hw)):
            return padding, tuple(out_hw), None
    full = tuple(max((i - 1) * s + k, p + o)
                 for i, k, s, p, o in zip(in_hw, kernel, strides, before, out_hw))
    return "VALID", full, tuple(before)


def crop_operands(n: int, channels: int, start, out_hw):
    """(begin, end, strides) of the STRIDED_SLICE keeping rows start..start + out_hw."""
    begin = [0, start[0], start[1], 0]
    end = [n, start[0] + out_hw[0], start[1] + out_hw[1], channels]
    return begin, end, [1, 1, 1, 1]
