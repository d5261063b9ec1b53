"""Helpers of the 16x8 DSP kernel tests (tests/test_c_int16_dsp_*.py): shapes that reach every
path of the kernels, the MIXED layers on both sides of the fast requantization's conditions,
an FC whose sums pass int32, and all cases of one bias mode merged into one graph."""
from __future__ import annotations

import dataclasses

import numpy as np

import oplab
import int16_cases as cases
from toolchain.ir import Graph, Op

KERNELS = ("fitml_conv_s16", "fitml_depthwise_conv_s16", "fitml_fully_connected_s16")
TARGETS = ("cortex-m4", "cortex-m7", "cortex-m55")

CONV = [  # (x shape, (cout, kh, kw, cin/groups), stride, dilation, padding)
    ((1, 9, 9, 3), (7, 3, 3, 3), (1, 1), (1, 1), "SAME"),        # patch, odd C_out
    ((2, 8, 7, 5), (5, 1, 3, 5), (2, 2), (1, 1), "SAME"),        # patch, batches, strides
    ((1, 10, 9, 2), (4, 3, 3, 2), (2, 1), (2, 2), "SAME"),       # patch, dilation
    ((1, 6, 6, 8), (16, 1, 1, 8), (1, 1), (1, 1), "VALID"),      # patch, pointwise
    ((1, 7, 8, 3), (5, 9, 5, 3), (1, 2), (1, 1), "SAME"),        # rows, mid-block starts
    ((1, 6, 6, 16), (6, 3, 3, 16), (1, 1), (1, 1), "SAME"),      # rows, whole blocks
    ((1, 9, 9, 20), (3, 3, 3, 20), (1, 1), (1, 2), "SAME"),      # taps (x dilation)
    ((1, 7, 7, 6), (6, 3, 3, 3), (1, 2), (1, 1), "SAME"),        # taps, 2 groups of 3
    ((1, 5, 5, 64), (3, 3, 3, 64), (2, 1), (1, 1), "SAME"),      # rows, 576-deep sums
    ((1, 3, 3, 520), (3, 1, 1, 520), (1, 1), (1, 1), "VALID"),   # rows, one 520-long span
    ((1, 6, 9, 14), (4, 3, 3, 7), (1, 1), (1, 3), "VALID"),      # taps, groups, dilation
]
DW = [  # (x shape, (kh, kw), depth multiplier, stride, dilation, padding)
    ((1, 9, 9, 7), (3, 3), 1, (1, 1), (1, 1), "SAME"),
    ((1, 8, 9, 8), (5, 3), 1, (2, 2), (1, 1), "SAME"),
    ((2, 8, 7, 3), (3, 2), 2, (2, 1), (1, 1), "VALID"),
    ((1, 10, 10, 2), (3, 3), 3, (1, 1), (2, 2), "SAME"),
    ((1, 7, 7, 12), (3, 3), 1, (1, 1), (2, 1), "SAME"),
]
FC = [((1, 7), 5), ((2, 37), 6), ((1, 600), 5), ((3, 64), 9)]   # (x shape, outputs)


def conv_case(i, bias):
    x_shape, w_shape, stride, dilation, padding = CONV[i]
    rng = np.random.default_rng([161, i, cases.BIASES.index(bias)])
    attrs = dict(padding=padding, stride=stride, dilation=dilation,
                 activation=("NONE", "RELU")[i % 2])
    return cases.weighted_case("CONV_2D", rng, x_shape, w_shape, 0, attrs, per_channel=i != 3,
                               bias=bias, small=i % 3 == 2)


def dw_case(i, bias):
    x_shape, (kh, kw), dm, stride, dilation, padding = DW[i]
    rng = np.random.default_rng([162, i, cases.BIASES.index(bias)])
    attrs = dict(padding=padding, stride=stride, dilation=dilation, activation="NONE",
                 depth_multiplier=dm)
    return cases.weighted_case("DEPTHWISE_CONV_2D", rng, x_shape,
                               (1, kh, kw, x_shape[3] * dm), 3, attrs, per_channel=i != 2,
                               bias=bias if bias != "int32" else "int64", small=i == 1)


def fc_case(i, bias):
    x_shape, n = FC[i]
    rng = np.random.default_rng([163, i, cases.BIASES.index(bias)])
    return cases.weighted_case("FULLY_CONNECTED", rng, x_shape, (n, x_shape[-1]), 0,
                               dict(activation="NONE", keep_num_dims=False),
                               per_channel=i % 2 == 0, bias=bias, small=i == 3)


def fc_beyond_int32(bias):
    """FC whose first rows sum past 2^31: +-127 weights meeting +-32767 inputs of their sign."""
    rng = np.random.default_rng([164, cases.BIASES.index(bias)])
    k, n = 1000, 4
    w = rng.choice(np.int8([-127, 127]), (n, k))
    s_w = np.float32([0.01] * n)
    x = oplab.act("x", (1, k), "int16", scale=cases.S_IN)
    wt = oplab.const("w", w, scale=s_w, axis=0)
    ins = [x, wt]
    if bias is not None:
        b = rng.integers(-1000, 1000, n).astype(bias)
        ins.append(oplab.const("b", b, scale=np.float32(cases.S_IN) * s_w, axis=0))
    attrs = dict(activation="NONE", keep_num_dims=False)
    out = oplab.out_like("FULLY_CONNECTED", ins, attrs, scale=2.0, zp=0)
    xs = np.where(w[0] >= 0, 32767, -32768).astype(np.int16)
    xs[: k // 3] = np.where(w[1, : k // 3] >= 0, -32768, 32767)
    return oplab.one_op("FULLY_CONNECTED", ins, attrs, out), [xs.reshape(1, k)]


EDGE = 2**31 - 1     # |bias| + 32768 * sum|w| at most this: the 32-bit path
MIXED = [  # (real multiplier, bias) per channel; "+edge" = EDGE - 32768 sum|w|, "+over" one more
    (0.3, 0),                            # shift -1: E = 0
    (1.3 * 2**-17, "+edge"), (1.3 * 2**-17, "+over"),
    (1.7 * 2**-17, "-edge"), (1.7 * 2**-17, "-over"),
    (0.75 * 2**-31, "+edge"),            # shift -31: E = 30
    (0.6, 0),                            # shift 0: the 64-bit path
    ((1 - 2**-22) * 2**-10, 777),        # multiplier >= 0x7FFF0000: m' capped at 0x7FFF
    (2**-11, -555),                      # multiplier 2^30: m' = 2^14
    (1.5 * 2**-20, 2**40), (2**-24, -2**35),   # int64 biases
    (0.125, 12345),                      # all-zero weights
]


def mixed_bias(rows: np.ndarray) -> np.ndarray:
    bound = np.abs(rows.astype(np.int64)).sum(axis=1) * 32768
    out = []
    for (_, b), lim in zip(MIXED, bound):
        if isinstance(b, str):
            b = (EDGE - lim + (b[1:] == "over")) * (1 if b[0] == "+" else -1)
        out.append(b)
    return np.array(out, np.int64)


def mixed_case(kind: str):
    """A layer with one channel per MIXED entry (output scale = input scale, so the filter
    scales are the multipliers); channels 1-5 share one filter row >= 0, and the inputs drive the
    sums to +-32768 sum|w| on the bias' side (exactly for a negative bias) and opposite."""
    rng = np.random.default_rng([166, ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
                                 .index(kind)])
    n = len(MIXED)
    k = 9 if kind == "DEPTHWISE_CONV_2D" else 64
    rows = rng.integers(-127, 128, (n, k)).astype(np.int8)
    rows[1:6] = np.abs(rows[1])         # no negative weight: -32768 sum|w| is reachable
    rows[-1] = 0
    bias = mixed_bias(rows)
    s_w = np.float32([m for m, _ in MIXED])
    toward = np.where(rows >= 0, 32768, -32768) * np.where(bias[:, None] < 0, -1, 1)
    down, up = toward, -toward          # (clipped to int16 below) sums of bias' sign, opposite
    wild = rng.integers(-32768, 32768, (2, n, k))
    if kind == "DEPTHWISE_CONV_2D":     # 3x3 VALID on 3x3: one pixel per batch, own channel
        wshape, axis, xshape = (1, 3, 3, n), 3, (4, 3, 3, n)
        w = rows.T.reshape(wshape)
        xs = np.stack([down.T, up.T, *wild.transpose(0, 2, 1)]).reshape(xshape)
        attrs = dict(padding="VALID", stride=(1, 1), dilation=(1, 1), activation="NONE",
                     depth_multiplier=1)
    else:                               # one input row per batch / pixel: channel 1's
        wshape, axis = ((n, k), 0) if kind == "FULLY_CONNECTED" else ((n, 1, 1, k), 0)
        xshape = (4, k) if kind == "FULLY_CONNECTED" else (1, 2, 2, k)
        w = rows.reshape(wshape)
        xs = np.stack([down[3], down[1], wild[0, 0], wild[1, 0]]).reshape(xshape)
        attrs = (dict(activation="NONE", keep_num_dims=False) if kind == "FULLY_CONNECTED" else
                 dict(padding="VALID", stride=(1, 1), dilation=(1, 1), activation="NONE"))
    x = oplab.act("x", xshape, "int16", scale=cases.S_IN)
    ins = [x, oplab.const("w", w, scale=s_w, axis=axis),
           oplab.const("b", bias, scale=np.float32(cases.S_IN) * s_w, axis=0)]
    out = oplab.out_like(kind, ins, attrs, scale=cases.S_IN, zp=0)
    return oplab.one_op(kind, ins, attrs, out), [np.clip(xs, -32768, 32767).astype(np.int16)]


MIXED_KINDS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def merged(parts) -> tuple[Graph, list[np.ndarray]]:
    """One graph running every one-op (graph, inputs) side by side (tensor names prefixed)."""
    tensors, ops, ins, outs, arrays = [], [], [], [], []
    for i, (g, xs) in enumerate(parts):
        def name(n, i=i):
            return f"g{i}_{n}" if n else n
        tensors += [dataclasses.replace(t, name=name(t.name)) for t in g.tensors.values()]
        ops += [Op(op.kind, [name(n) for n in op.inputs], [name(n) for n in op.outputs],
                   op.attrs) for op in g.ops]
        ins += [name(n) for n in g.inputs]
        outs += [name(n) for n in g.outputs]
        arrays += list(xs)
    return Graph.build(tensors, ops, ins, outs).validate(), arrays

