"""Windows of the ONNX Conv and pools: ONNX padding (auto_pad, pads, ceil_mode) mapped to
TFLite's SAME/VALID or an explicit PAD, the spatial attributes, and 1-D ops run as 2-D."""
from __future__ import annotations

import numpy as np

from ..ops import common
from .onnx_build import Builder
from .onnx_node import NHWC, NWC, OnnxNode

FLOAT_LOWEST = float(np.finfo(np.float32).min)


def window_pads(b: Builder, n: OnnxNode, hw, kernel, strides, dilations):
    """([(before, after)] per spatial dim, True when ceil_mode added end padding)."""
    auto = n.attr("auto_pad", "NOTSET")
    explicit = list(n.attr("pads", [0, 0, 0, 0]))
    if auto not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER") or len(explicit) != 4:
        raise b.error(f"unsupported padding auto_pad={auto!r} pads={explicit}")
    pads, grew = [], False
    for i, (size, k, s, d) in enumerate(zip(hw, kernel, strides, dilations)):
        eff = (k - 1) * d + 1
        if auto == "VALID":
            before = after = 0
        elif auto == "NOTSET":
            before, after = int(explicit[i]), int(explicit[i + 2])
        else:
            total = max(0, (-(-size // s) - 1) * s + eff - size)
            before = total // 2 if auto == "SAME_UPPER" else total - total // 2
            after = total - before
        if min(before, after) < 0:
            raise b.error(f"negative pads {explicit}")
        if n.attr("ceil_mode", 0):
            out = -(-(size + before + after - eff) // s) + 1
            if (out - 1) * s >= size + before:   # a window may not start in the end padding
                out -= 1
            extra = max(0, (out - 1) * s + eff - (size + before + after))
            after, grew = after + extra, grew or extra > 0
        pads.append((before, after))
    return pads, grew


def tflite_padding(hw, kernel, strides, dilations, pads) -> str | None:
    """"VALID"/"SAME" when TFLite's rule reads exactly the same windows, else None."""
    for padding in ("VALID", "SAME"):
        ok = True
        for size, k, s, d, (before, after) in zip(hw, kernel, strides, dilations, pads):
            out = (size + before + after - ((k - 1) * d + 1)) // s + 1
            tfl_out = common.out_size(size, k, s, d, padding)
            tfl_before = common.pad_before(size, k, s, d, tfl_out) if padding == "SAME" else 0
            ok = ok and out == tfl_out and before == tfl_before
        if ok:
            return padding
    return None


def explicit_pad(b: Builder, x: str, pads, lowest: bool = False) -> str:
    """PAD with zeros (PADV2 with the lowest value when `lowest`) of an NHWC tensor's H, W."""
    paddings = np.array([[0, 0], *pads, [0, 0]], np.int64)   # int32, range-checked
    ins = [x, b.const_tensor(paddings, "paddings")]
    if lowest:
        t = b.tensors[x]
        fill = np.array([-128], np.int8) if t.dtype == "int8" else np.array([FLOAT_LOWEST])
        ins.append(b.const_tensor(fill, "pad_value", t.quant))
    return b.emit("PADV2" if lowest else "PAD", ins, base=f"{x}_padded")


def spatial(b: Builder, n: OnnxNode, x: str, kernel):
    """(hw, strides, dilations) of a 2-D windowed op on NHWC input value `x`."""
    shape = b.shape(x)
    if len(shape) != 4 or len(kernel) != 2:
        raise b.error(f"only 1-D and 2-D windows are supported, got input {list(shape)} "
                      f"and kernel {list(kernel)}")
    strides = tuple(n.attr("strides", (1, 1)))
    dilations = tuple(n.attr("dilations", (1, 1)))
    return shape[2:], strides, dilations


# --- convolution and pooling ---------------------------------------------------------------
def as_2d(b: Builder, n: OnnxNode, convert) -> None:
    """Run a 1-D Conv/pool ([N, C, L]) as the 2-D one on [N, C, 1, L]: stored [N, L, C]
    (NWC) reshapes to NHWC [N, 1, L, C] and back without moving data."""
    x = n.input(0)
    batch, channels, length = b.shape(x)
    x4, out4 = b.fresh(f"{x}_2d"), b.fresh(f"{n.outputs[0]}_2d")
    b.define(x4, b.reshape(b.tensor_in(x, NWC), (batch, 1, length, channels)), NHWC)
    inputs = [x4, *n.inputs[1:]]
    if n.input(1) and b.is_const(n.input(1)):   # Conv weights [M, C/g, K] -> [M, C/g, 1, K]
        w = n.input(1)
        inputs[1] = b.add_const(b.const(w)[:, :, None, :], f"{w}_2d")
        if w in b.qconsts:
            codes, quant = b.qconsts[w]
            b.qconsts[inputs[1]] = (codes[:, :, None, :], quant)
    attrs = dict(n.attrs)
    for key in ("kernel_shape", "strides", "dilations"):
        if key in attrs:
            attrs[key] = [1, *attrs[key]]
    if "pads" in attrs:
        attrs["pads"] = [0, attrs["pads"][0], 0, attrs["pads"][1]]
    convert(b, OnnxNode(n.op_type, n.name, tuple(inputs), (out4,), attrs))
    batch, channels, _, length = b.shape(out4)
    out = b.reshape(b.tensor_in(out4, NHWC), (batch, length, channels), out=n.outputs[0])
    b.define(n.outputs[0], out, NWC)
