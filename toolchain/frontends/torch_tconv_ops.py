"""ATen transposed convolution (conv_transpose2d, after decomposition aten.convolution with
transposed=True): 2-D, groups 1, dilation 1 -> TRANSPOSE_CONV, plus a STRIDED_SLICE where
TFLite's SAME / VALID cannot place the rows (transpose_conv_geom.py)."""
from __future__ import annotations

import numpy as np

from .torch_builder import Builder
from .torch_common import NHWC, Value
from .torch_ops import pair
from .transpose_conv_geom import crop_operands, tflite_geometry


def conv_transpose(b: Builder, node, x, w: np.ndarray, bias, stride, padding, dilation,
                   out_pad, groups) -> Value:
    """w: [C_in, C_out, KH, KW] (torch's layout for transposed convolutions)."""
    shape = b.shape(x)
    if len(shape) != 4 or w.ndim != 4:
        raise b.error(f"only 2-D transposed convolution is supported, input {list(shape)}")
    if int(groups) != 1 or pair(dilation) != (1, 1):
        raise b.error(f"transposed convolution groups={groups} dilation={list(pair(dilation))}:"
                      " only groups 1 and dilation 1 are supported")
    _, cout, kh, kw = w.shape
    strides, pads = pair(stride), pair(padding)
    out_hw = tuple(b.out_shape(node)[2:])
    padding_mode, hw, crop = tflite_geometry(shape[2:], (kh, kw), strides, pads, out_hw)
    base = node.name
    if bias is None:   # LiteRT's float kernels are happiest with a bias operand
        bias = np.zeros(cout, np.float32)
    ins = [b.ints([shape[0], *hw, cout], f"{base}_output_shape"),
           b.const_tensor(w.transpose(1, 2, 3, 0), f"{base}_weight"),
           b.tensor_in(x, NHWC), b.const_tensor(bias, f"{base}_bias")]
    out = b.emit("TRANSPOSE_CONV", ins, dict(padding=padding_mode, stride=strides,
                                             activation="NONE"), perm=NHWC)
    if crop is None:
        return out
    begin, end, steps = crop_operands(shape[0], cout, crop, out_hw)
    return b.emit("STRIDED_SLICE", [out.tensor, b.ints(begin, f"{base}_begin"),
                                    b.ints(end, f"{base}_end"), b.ints(steps, f"{base}_strides")],
                  {}, perm=NHWC)
