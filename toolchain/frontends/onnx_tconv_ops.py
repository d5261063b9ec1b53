"""ONNX ConvTranspose (2-D, group 1, dilation 1, explicit pads and output_padding) ->
TRANSPOSE_CONV, plus a STRIDED_SLICE where TFLite's SAME / VALID cannot place the rows."""
from __future__ import annotations

import numpy as np

from .onnx_build import Builder
from .onnx_node import NHWC, OnnxNode, converter
from .transpose_conv_geom import crop_operands, tflite_geometry


def _pads(b: Builder, n: OnnxNode, hw, kernel, strides) -> tuple[list[int], list[int]]:
    """(leading pads, output (H, W)) from pads and output_padding (auto_pad NOTSET / VALID)."""
    auto = n.attr("auto_pad", "NOTSET")
    pads = [0, 0, 0, 0] if auto == "VALID" else [int(p) for p in n.attr("pads", [0, 0, 0, 0])]
    extra = [int(p) for p in n.attr("output_padding", [0, 0])]
    if auto not in ("NOTSET", "VALID") or n.attr("output_shape") is not None:
        raise b.error(f"ConvTranspose auto_pad={auto!r} / output_shape: supported are explicit "
                      "pads and output_padding (auto_pad NOTSET or VALID)")
    if len(pads) != 4 or len(extra) != 2 or min(pads) < 0 or not all(
            0 <= e < s for e, s in zip(extra, strides)):
        raise b.error(f"ConvTranspose pads {pads} output_padding {extra}: need 4 pads >= 0 and "
                      "0 <= output_padding < stride")
    out = [s * (i - 1) + e + k - pads[a] - pads[a + 2]
           for a, (i, k, s, e) in enumerate(zip(hw, kernel, strides, extra))]
    if min(out) < 1:
        raise b.error(f"ConvTranspose pads {pads} leave no output ({out})")
    return pads[:2], out


@converter("ConvTranspose")
def conv_transpose(b: Builder, n: OnnxNode):
    x, w_name, bias_name = n.input(0), n.input(1), n.input(2)
    w = b.const(w_name)
    shape = b.shape(x)
    if w.ndim != 4 or len(shape) != 4:
        raise b.error(f"only 2-D ConvTranspose is supported, input {list(shape)} weights "
                      f"{list(w.shape)}")
    if int(n.attr("group", 1)) != 1 or tuple(n.attr("dilations", (1, 1))) != (1, 1):
        raise b.error(f"ConvTranspose group={n.attr('group', 1)} dilations="
                      f"{list(n.attr('dilations', (1, 1)))}: only group 1, dilation 1")
    if b.tensors[b.tensor_in(x, NHWC)].dtype != "float32":
        raise b.error("only float32 ConvTranspose is supported (no QDQ)")
    strides = tuple(int(s) for s in n.attr("strides", (1, 1)))
    cin, cout, kh, kw = w.shape
    if cin != shape[1]:
        raise b.error(f"ConvTranspose weights {list(w.shape)} do not fit {shape[1]} channels")
    before, out_hw = _pads(b, n, shape[2:], (kh, kw), strides)
    padding, hw, crop = tflite_geometry(shape[2:], (kh, kw), strides, before, out_hw)
    ins = [b.ints([shape[0], *hw, cout], "output_shape"),
           b.const_tensor(np.transpose(w, (1, 2, 3, 0)).astype(np.float32), w_name),
           b.tensor_in(x, NHWC)]
    if bias_name:
        ins.append(b.const_tensor(b.const(bias_name).astype(np.float32), bias_name))
    attrs = dict(padding=padding, stride=strides, activation="NONE")
    if crop is None:
        b.emit("TRANSPOSE_CONV", ins, attrs, out=n.outputs[0], perm=NHWC)
        return
    full = b.emit("TRANSPOSE_CONV", ins, attrs, base=f"{n.outputs[0]}_full")
    begin, end, steps = crop_operands(shape[0], cout, crop, out_hw)
    b.emit("STRIDED_SLICE", [full, b.ints(begin, "begin"), b.ints(end, "end"),
                             b.ints(steps, "strides")], {}, out=n.outputs[0], perm=NHWC)
