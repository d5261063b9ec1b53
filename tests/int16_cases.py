"""Seeded int16 (TFLite's 16x8 scheme) one-op graphs: CONV_2D, DEPTHWISE_CONV_2D and
FULLY_CONNECTED (per-channel and per-tensor int8 filters, strides, paddings, dilations, fused
activations, int64 / int32 / no bias), the pools, MEAN, QUANTIZE to and from int16 and the
byte-moving ops. Two input regimes: the full int16 range with a shrinking output scale (negative
requantization shifts), and small inputs with per-channel scales spread over three decades
(positive shifts too); one channel has a bias far beyond int32 and a multiplier near 2^-28, so
the int64 bias decides its output. Checked against TFLite Micro in tests/test_ops_int16_*.py and
as C kernels in tests/test_c_int16*.py."""
from __future__ import annotations

import numpy as np

import oplab
from toolchain.ops import common
from toolchain.ops.quantize import quantize_float


S_IN = 1.0 / 4096
ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _bias(rng, cout, dtype, s_in, s_w, acc_std, huge: bool):
    """Bias at scale s_in * s_w; with `huge`, channel 0 holds a value beyond int32."""
    lim = min(int(4 * acc_std), 2**31 - 1)
    values = rng.integers(-lim, lim + 1, cout).astype(np.int64)
    if huge:
        values[0] = int(rng.choice([-1, 1])) * int(rng.integers(2**38, 2**42))
    return oplab.const("b", values.astype(dtype), scale=(np.float32(s_in) * s_w).astype(
        np.float32), axis=0 if s_w.size > 1 else None)


def weighted_case(kind: str, rng, x_shape, w_shape, axis, attrs, per_channel=True,
                  bias="int64", small=False):
    """(graph, inputs) of one 16x8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED.

    Not small: full-range int16 inputs, output scale for an output std of ~2000-8000 codes.
    small: inputs in [-64, 64], per-channel filter scales over three decades, so requantization
    shifts take both signs. A per-channel int64 bias puts a huge value on channel 0 whose
    multiplier is ~2^-28 (its filter scale shrunk to match)."""
    cout, taps = w_shape[axis], int(np.prod(w_shape)) // w_shape[axis]
    amp = 64 if small else 32768
    acc_std = amp * 0.58 * 73 * np.sqrt(taps)
    spread = 10.0 ** rng.uniform(-1.5, 1.5, cout) if small else rng.uniform(0.5, 2, cout)
    s_w = (0.01 * spread if per_channel else np.float32([0.01])).astype(np.float32)
    s_out = float(S_IN * 0.01 * acc_std / rng.uniform(2000, 8000))
    huge = bias == "int64" and per_channel
    if huge:      # channel 0: m = s_in * s_w0 / s_out ~ 2^-28
        s_w[0] = np.float32(s_out / S_IN * 2.0**-28 * rng.uniform(1, 2))
    x = oplab.act("x", x_shape, "int16", scale=S_IN)
    w = oplab.const("w", rng.integers(-127, 128, w_shape).astype(np.int8), scale=s_w,
                    axis=axis if per_channel else None)
    b = None if bias is None else _bias(rng, cout, bias, S_IN, s_w, acc_std, huge)
    ins = [x, w] if b is None and kind != "FULLY_CONNECTED" else [x, w, b]
    out = oplab.out_like(kind, ins, attrs, scale=s_out, zp=0)
    graph = oplab.one_op(kind, ins, attrs, out)
    xs = rng.integers(-amp, amp + 1, x_shape).astype(np.int16)
    return graph, [xs]


CONV_CASES = [  # (x shape, (cout, kh, kw, cin/groups), stride, dilation, padding)
    ((1, 9, 9, 3), (6, 3, 3, 3), (1, 1), (1, 1), "SAME"),
    ((2, 8, 7, 4), (5, 3, 2, 4), (2, 1), (1, 1), "VALID"),
    ((1, 10, 10, 2), (4, 3, 3, 2), (2, 2), (2, 2), "SAME"),
    ((1, 6, 6, 8), (7, 1, 1, 8), (1, 1), (1, 1), "VALID"),
    ((1, 7, 7, 4), (6, 3, 3, 2), (1, 2), (1, 1), "SAME"),      # 2 groups
]
DW_CASES = [  # (x shape, (kh, kw), depth multiplier, stride, dilation, padding)
    ((1, 9, 9, 4), (3, 3), 1, (1, 1), (1, 1), "SAME"),
    ((1, 8, 7, 3), (3, 2), 2, (2, 1), (1, 1), "VALID"),
    ((2, 10, 10, 2), (3, 3), 3, (1, 1), (2, 2), "SAME"),
]
BIASES = ("int64", "int32", None)


def conv_case(index: int, bias, act: str, small: bool):
    rng = np.random.default_rng([16, 1, index, BIASES.index(bias), ACTS.index(act), small])
    x_shape, w_shape, stride, dilation, padding = CONV_CASES[index]
    attrs = dict(padding=padding, stride=stride, dilation=dilation, activation=act)
    return weighted_case("CONV_2D", rng, x_shape, w_shape, 0, attrs,
                         per_channel=index != 3, bias=bias, small=small)


def dw_case(index: int, bias, act: str, small: bool):
    rng = np.random.default_rng([16, 2, index, BIASES.index(bias), ACTS.index(act), small])
    x_shape, (kh, kw), dm, stride, dilation, padding = DW_CASES[index]
    attrs = dict(padding=padding, stride=stride, dilation=dilation, activation=act,
                 depth_multiplier=dm)
    return weighted_case("DEPTHWISE_CONV_2D", rng, x_shape, (1, kh, kw, x_shape[3] * dm), 3,
                         attrs, per_channel=index != 1, bias=bias, small=small)


FC_CASES = [((3, 40), 7, False), ((1, 1, 1, 24), 9, False), ((2, 3, 16), 5, True)]


def fc_case(index: int, bias, per_channel: bool, act: str, small: bool):
    rng = np.random.default_rng([16, 3, index, BIASES.index(bias), per_channel, small])
    x_shape, n, keep = FC_CASES[index]
    attrs = dict(activation=act, keep_num_dims=keep)
    return weighted_case("FULLY_CONNECTED", rng, x_shape, (n, x_shape[-1]), 0, attrs,
                         per_channel=per_channel, bias=bias, small=small)


def shifts_of(graph):
    """Requantization shifts of a one-op weighted graph (to show both signs are covered)."""
    op = graph.ops[0]
    x, w, out = (graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]],
                 graph.tensors[op.outputs[0]])
    return common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, w.quant.scale.size)[1]


POOL_CASES = [((1, 7, 6, 3), (3, 2), (2, 2), "SAME"), ((2, 8, 8, 2), (2, 2), (2, 2), "VALID"),
              ((1, 9, 7, 4), (3, 3), (1, 2), "SAME"), ((1, 5, 5, 1), (5, 5), (1, 1), "VALID")]


def pool_graph(kind: str, index: int, act: str):
    shape, filt, stride, padding = POOL_CASES[index]
    x = oplab.act("x", shape, "int16", scale=1 / 2000)
    attrs = dict(padding=padding, stride=stride, filter=filt, activation=act)
    out = oplab.out_like(kind, [x], attrs, scale=1 / 2000, zp=0)
    return oplab.one_op(kind, [x], attrs, out)


def mean_graph(axes, keep: bool, s_out: float):
    x = oplab.act("x", (2, 5, 6, 7), "int16", scale=1 / 2000)
    ax = oplab.const("axes", np.array(axes, np.int32))
    out = oplab.out_like("MEAN", [x, ax], dict(keep_dims=keep), scale=s_out, zp=0)
    return oplab.one_op("MEAN", [x, ax], dict(keep_dims=keep), out)


QUANTIZE_CASES = [("int8", 0.02, 5, "int16", 1 / 5000), ("int16", 1 / 4096, 0, "int8", 0.03),
                  ("int16", 1 / 4096, 0, "int16", 1 / 5000), ("int16", 1 / 4096, 0, "int16", 1e-3),
                  ("float32", None, None, "int16", 1 / 3000)]


def quantize_graph(src, s_in, zp_in, dst, s_out):
    x = oplab.act("x", (1, 4, 5, 3), src, scale=s_in, zp=zp_in)
    out = oplab.act("out", (1, 4, 5, 3), dst, scale=s_out, zp=-3 if dst == "int8" else 0)
    return oplab.one_op("QUANTIZE", [x], dict(dtype=dst), out)


def data_graphs():
    """RESHAPE, PAD, TRANSPOSE, CONCATENATION on int16 (raw 2-byte moves)."""
    x = oplab.act("x", (1, 4, 5, 3), "int16", scale=1 / 4096)
    y = oplab.act("y", (1, 4, 5, 2), "int16", scale=1 / 4096)
    cases = [("RESHAPE", [x, oplab.const("shape", np.array([1, 60], np.int32))], {}),
             ("PAD", [x, oplab.const("pads", np.array([[0, 0], [1, 2], [0, 1], [0, 0]],
                                                      np.int32))], {}),
             ("TRANSPOSE", [x, oplab.const("perm", np.array([0, 2, 1, 3], np.int32))], {}),
             ("CONCATENATION", [x, y], dict(axis=3, activation="NONE"))]
    for kind, ins, attrs in cases:
        out = oplab.out_like(kind, ins, attrs, scale=1 / 4096, zp=0)
        yield kind, oplab.one_op(kind, ins, attrs, out)


def input_cases(t, seed: int, realistic: int, full_range: int = 2) -> list[list[np.ndarray]]:
    """Inputs for an int16 model input `t`: `realistic` uniform [-1, 1] floats quantized with
    its scale and zero point, then `full_range` random int16 ones (seeded)."""
    rng = np.random.default_rng(seed)
    cases = [[quantize_float(rng.uniform(-1, 1, t.shape).astype(np.float32), t.quant.s,
                             t.quant.zp, "int16")] for _ in range(realistic)]
    return cases + [[rng.integers(-32768, 32768, t.shape).astype(np.int16)]
                    for _ in range(full_range)]
