"""What fitml's UNIDIRECTIONAL_SEQUENCE_LSTM accepts (TFLite Micro's standard LSTM): no
peephole, projection, layer norm or CIFG; constant weights of the right shapes; float32, or
int8x8->16 with the quantization TFLM's integer kernel assumes."""
from __future__ import annotations

from ..ir import GraphError
from . import common
from . import int16_nonlinear as nl
from . import lstm_math as lm
from .lstm_math import KIND, sizes

VARIANTS = ((lm.PEEPHOLE, "peephole weights (inputs 9-11)"),
            (lm.PROJECTION, "projection weights/bias (inputs 16-17)"),
            (lm.LAYER_NORM, "layer-norm coefficients (inputs 20-23)"))


def _input(ins, i):
    return ins[i] if i < len(ins) else None


def check_lstm(op, ins, outs) -> None:
    """GraphError naming the first input or attribute fitml cannot run."""
    batch, _, n_in, units = sizes(op, ins)
    for idx, what in VARIANTS:
        if any(_input(ins, i) is not None for i in idx):
            raise GraphError(f"{KIND}: {what} are not supported (TFLite Micro runs only the "
                             "standard LSTM)")
    if _input(ins, 1) is None or _input(ins, 5) is None:
        raise GraphError(f"{KIND}: CIFG (no input gate weights) is not supported")
    if op.attr("activation", "TANH") != "TANH" or op.attr("diagonal_recurrent", False):
        raise GraphError(f"{KIND}: only activation TANH with full recurrent weights is "
                         f"supported, got {op.attr('activation')}")
    want = {i: (units, n_in) for i in lm.INPUT_W}
    want.update({i: (units, units) for i in lm.RECURRENT_W})
    want.update({i: (units,) for i in lm.BIAS})
    for i, shape in want.items():
        t = common.need(_input(ins, i), f"input {i}", KIND)
        if t.shape != shape or not t.is_const:
            raise GraphError(f"{KIND}: input {i} ({t.name!r}) must be a constant of shape "
                             f"{list(shape)}, got {list(t.shape)}")
    for i in (lm.HIDDEN, lm.CELL):
        t = common.need(_input(ins, i), "state (inputs 18, 19)", KIND)
        if not t.is_const or t.size != batch * units:
            raise GraphError(f"{KIND}: state {t.name!r} must be a zero-initialized variable "
                             f"of {batch * units} elements")
    if ins[0].dtype == "float32":
        bad = [t.name for t in ins if t is not None and t.dtype != "float32"]
        if bad:
            raise GraphError(f"{KIND}: float input with non-float tensors {bad} (hybrid "
                             "LSTM) is not supported")
        return
    if ins[0].dtype != "int8":
        raise GraphError(f"{KIND}: {ins[0].dtype} activations are not supported (float32, "
                         "int8)")
    check_int8(ins, outs)


def check_int8(ins, outs) -> None:
    """int8x8->16: int8 input, per-tensor int8 weights, int32 biases, int8 hidden state, int16
    cell state at a power-of-two scale (what TFLM's integer kernel assumes)."""
    h, c = ins[lm.HIDDEN], ins[lm.CELL]
    for i in lm.INPUT_W + lm.RECURRENT_W:
        w = ins[i]
        if w.dtype != "int8" or w.quant is None or w.quant.scale.size != 1:
            raise GraphError(f"{KIND}: int8 LSTM needs per-tensor int8 weights, input {i} "
                             f"({w.name!r}) is {w.dtype}")
    for i in lm.BIAS:
        if ins[i].dtype != "int32":
            raise GraphError(f"{KIND}: int8 LSTM needs int32 biases, input {i} is "
                             f"{ins[i].dtype}")
    if h.dtype != "int8" or h.quant is None or c.dtype != "int16" or c.quant is None:
        raise GraphError(f"{KIND}: int8 LSTM needs a quantized int8 hidden state and int16 cell "
                         f"state, got {h.dtype} and {c.dtype}")
    if not nl.checked_log2(c.quant.s)[0] or c.quant.zp != 0:
        raise GraphError(f"{KIND}: cell state scale {c.quant.s:g} is not a power of two with "
                         "zero point 0")
    if outs and outs[0].dtype != "int8":
        raise GraphError(f"{KIND}: int8 LSTM output must be int8")
