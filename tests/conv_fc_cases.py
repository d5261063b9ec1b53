"""Seeded one-op CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED graphs (int8 with per-channel or
per-tensor symmetric filters, int4 filters, with or without bias, or float) and the check that
the reference equals TFLite Micro exactly (int8) or TFLM and LiteRT to 1e-5 (float), for
tests/test_ops_conv.py, test_ops_fully_connected.py, test_ops_pool.py and
test_ops_conv_options_macs.py."""
from __future__ import annotations

import numpy as np

import oplab


ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH")
FAMILY_SEED = {"CONV_2D": 1, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 3,
               "AVERAGE_POOL_2D": 4, "MAX_POOL_2D": 5}


def seeded(kind: str, index: int, dtype: str) -> np.random.Generator:
    return np.random.default_rng([FAMILY_SEED[kind], index, dtype == "float32"])


def weighted_graph(kind, rng, dtype, x_shape, w_shape, axis, attrs, per_channel=True,
                   bias=True, w_dtype="int8"):
    """One conv-like op: symmetric int8 filter (per-channel along `axis` or per-tensor), int32
    bias at s_in * s_w, output scale sized so the int8 output range is well used."""
    cout, taps = w_shape[axis], int(np.prod(w_shape)) // w_shape[axis]
    if dtype == "float32":
        x = oplab.act("x", x_shape, "float32")
        w = oplab.const("w", (rng.standard_normal(w_shape) / np.sqrt(taps)).astype(np.float32))
        b = oplab.const("b", rng.standard_normal(cout).astype(np.float32)) if bias else None
        out = oplab.out_like(kind, inputs(kind, x, w, b), attrs)
        return oplab.one_op(kind, inputs(kind, x, w, b), attrs, out)
    s_in, zp_in = float(rng.uniform(0.01, 0.1)), int(rng.integers(-20, 21))
    x = oplab.act("x", x_shape, scale=s_in, zp=zp_in)
    lim = 7 if w_dtype == "int4" else 127
    s_w = rng.uniform(0.002, 0.02, cout if per_channel else 1).astype(np.float32)
    w = oplab.const("w", rng.integers(-lim, lim + 1, w_shape).astype(np.int8), scale=s_w,
                    axis=axis if per_channel else None, dtype=w_dtype)
    acc_std = 74.0 * lim * 0.58 * np.sqrt(taps)          # x - zp and w roughly uniform
    b = None
    if bias:
        b = oplab.const("b", rng.integers(-acc_std, acc_std + 1, cout).astype(np.int32),
                        scale=np.float32(s_in) * s_w, axis=0 if per_channel else None)
    s_out = float(s_in * s_w.mean() * acc_std / rng.uniform(25, 60))
    ins = inputs(kind, x, w, b)
    out = oplab.out_like(kind, ins, attrs, scale=s_out, zp=int(rng.integers(-30, 31)))
    return oplab.one_op(kind, ins, attrs, out)


def inputs(kind, x, w, b):
    """No bias: FC gets an absent third input (index -1); the convolutions get two inputs,
    since TFLM's DEPTHWISE_CONV_2D Prepare crashes on a -1 bias index (it frees the null temp
    tensor) and LiteRT's CONV_2D refuses one ("optional but was expected")."""
    return [x, w] if b is None and kind != "FULLY_CONNECTED" else [x, w, b]


def run_case(graph, rng, dtype, litert=True):
    """int8: reference == TFLM exactly (two input draws); float: == TFLM and LiteRT to 1e-5."""
    for _ in range(1 if dtype == "float32" else 2):
        oplab.check_tflm(graph, rng, litert=litert and dtype == "float32", atol=1e-5)


def conv_case(kind, index, dtype, case, w_dtype="int8"):
    stride, pad, dil, mult, per_channel, bias = case
    rng = seeded(kind, index, dtype)
    h, w = 5 + index % 4, 9 - index % 3
    k = ((3, 3), (2, 3), (3, 2), (1, 1))[index % 4] if index % 7 else (5, 5)
    if k == (5, 5):
        h, w = h + 4, w + 4                            # room for a VALID dilated 9x9 window
    attrs = dict(padding=pad, stride=(stride, stride + index % 2), dilation=(dil, dil),
                 activation=ACTS[index % len(ACTS)])
    batch = 2 if index % 5 == 0 else 1
    if kind == "DEPTHWISE_CONV_2D":
        c = 3 + index % 3
        attrs["depth_multiplier"] = mult
        return weighted_graph(kind, rng, dtype, (batch, h, w, c), (1, *k, c * mult), 3, attrs,
                              per_channel, bias, w_dtype)
    groups = mult                                      # "multiplier" 2: a grouped conv
    cin = 2 * (1 + index % 2)
    cout = groups * (2 + index % 3)
    return weighted_graph(kind, rng, dtype, (batch, h, w, cin), (cout, *k, cin // groups), 0,
                          attrs, per_channel, bias, w_dtype)


# (input shape, K, keep_num_dims): batches > 1, K not the last input dim, odd sizes
FC_SHAPES = [((1, 7), 7, False), ((3, 13), 13, False), ((2, 3, 5), 5, True),
             ((2, 3, 5), 5, False), ((1, 2, 3, 5), 15, False), ((4, 1, 1, 33), 33, False),
             ((2, 2, 9), 9, True), ((5, 16), 16, False)]


def fc_graph(index, dtype, shape_index, per_channel, bias, w_dtype="int8"):
    x_shape, k, keep = FC_SHAPES[shape_index]
    rng = seeded("FULLY_CONNECTED", index, dtype)
    n = (1, 5, 8, 3)[index % 4]
    acts = ACTS if dtype == "int8" else ACTS[:-1]      # LiteRT's FC refuses a fused TANH
    attrs = dict(activation=acts[index % len(acts)], keep_num_dims=keep)
    return weighted_graph("FULLY_CONNECTED", rng, dtype, x_shape, (n, k), 0, attrs,
                          per_channel, bias, w_dtype)
