"""CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D: seeded one-op
graphs; the int8 reference equals TFLite Micro exactly, float matches TFLM and LiteRT."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import oplab
from toolchain.ir import GraphError, Op
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph

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


# ---------------------------------------------------------------- CONV_2D and DEPTHWISE_CONV_2D
# (stride, padding, dilation, depth multiplier or groups); odd and even sizes per case
SPATIAL = list(itertools.product((1, 2), ("SAME", "VALID"), (1, 2), (1, 2)))
INT8_CONV = [(s, p, d, m, pc, b) for (s, p, d, m), pc, b
             in itertools.product(SPATIAL, (True, False), (True, False))]
FLOAT_CONV = [(s, p, d, m, True, i % 2 == 0) for i, (s, p, d, m) in enumerate(SPATIAL)]


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


def case_id(case):
    stride, pad, dil, mult, pc, bias = case
    return (f"s{stride}-{pad}-d{dil}-m{mult}-{'pc' if pc else 'pt'}"
            f"-{'bias' if bias else 'nobias'}")


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("index,case", list(enumerate(INT8_CONV)),
                         ids=[f"{i}-{case_id(c)}" for i, c in enumerate(INT8_CONV)])
def test_conv_int8_tflm_exact(kind, index, case):
    rng = seeded(kind, index, "int8")
    run_case(conv_case(kind, index, "int8", case), rng, "int8")


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("index,case", list(enumerate(FLOAT_CONV)),
                         ids=[f"{i}-{case_id(c)}" for i, c in enumerate(FLOAT_CONV)])
def test_conv_float_tflm_litert(kind, index, case):
    rng = seeded(kind, index, "float32")
    # LiteRT's CONV_2D Prepare requires a bias ("has_bias was not true"): TFLM only then
    litert = kind != "CONV_2D" or case[5]
    run_case(conv_case(kind, index, "float32", case), rng, "float32", litert)


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("index", range(4))
def test_conv_int4_filter_tflm_exact(kind, index):
    case = SPATIAL[index * 5 % len(SPATIAL)][:3] + (1, index % 2 == 0, True)
    graph = conv_case(kind, index, "int8", case, w_dtype="int4")
    run_case(graph, seeded(kind, 100 + index, "int8"), "int8")


def test_depthwise_multiplier_must_match_filter():
    x = oplab.act("x", (1, 4, 4, 3))
    w = oplab.const("w", np.ones((1, 3, 3, 6), np.int8), scale=0.01)
    for bad in (1, 3):
        op = Op("DEPTHWISE_CONV_2D", ["x", "w"], ["y"], dict(depth_multiplier=bad))
        with pytest.raises(GraphError, match="depth_multiplier"):
            registry.get("DEPTHWISE_CONV_2D").infer(op, [x, w])


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_window_that_does_not_fit_is_rejected(kind):
    x = oplab.act("x", (1, 4, 6, 2))
    w = oplab.const("w", np.ones((2, 3, 3, 2) if kind == "CONV_2D" else (1, 3, 3, 2), np.int8),
                    scale=0.01)
    op = Op(kind, ["x", "w"], ["y"], dict(padding="VALID", dilation=(2, 1)))
    with pytest.raises(GraphError, match="does not fit"):
        registry.get(kind).infer(op, [x, w])


@pytest.mark.parametrize("index", range(4))
def test_hybrid_conv_per_tensor_matches_litert(index):
    """Float input, per-tensor int8 weights: LiteRT quantizes each batch of the input
    symmetrically on the fly (TFLM cannot run this); the reference does the same."""
    from toolchain.backends.tflite import write_tflite
    from toolchain.verify.litert import run_litert

    case = SPATIAL[index * 3 % len(SPATIAL)][:2] + (1, 1, False, True)
    graph = conv_case("CONV_2D", index, "int8", case)
    op = graph.ops[0]
    x, w, b = graph.op_inputs(op)
    rng = np.random.default_rng(index)
    fb = oplab.const("b", rng.standard_normal(b.shape).astype(np.float32))
    out = graph.tensors[op.outputs[0]].replace(dtype="float32", quant=None)
    hybrid = oplab.one_op("CONV_2D", [x.replace(dtype="float32", quant=None), w, fb],
                          op.attrs, out)
    value = (rng.standard_normal(x.shape) * 3).astype(np.float32)
    oplab.assert_close(run_litert(write_tflite(hybrid), [value])[0],
                       run_graph(hybrid, [value])[0], 1e-5, "litert")


def test_depthwise_channel_order_hand_computed():
    """Output channel ic*dm + m reads input channel ic: a 1x1 filter makes it visible."""
    x = oplab.act("x", (1, 1, 1, 2), "float32")
    w = oplab.const("w", np.array([1, 10, 100, 1000], np.float32).reshape(1, 1, 1, 4))
    attrs = dict(padding="VALID", stride=(1, 1), depth_multiplier=2)
    graph = oplab.one_op("DEPTHWISE_CONV_2D", [x, w], attrs,
                         oplab.out_like("DEPTHWISE_CONV_2D", [x, w], attrs))
    (y,) = run_graph(graph, [np.array([2, 3], np.float32).reshape(1, 1, 1, 2)])
    np.testing.assert_array_equal(y.ravel(), [2, 20, 300, 3000])


# ------------------------------------------------------------------------- FULLY_CONNECTED
# (input shape, K, keep_num_dims): batches > 1, K not the last input dim, odd sizes
FC_SHAPES = [((1, 7), 7, False), ((3, 13), 13, False), ((2, 3, 5), 5, True),
             ((2, 3, 5), 5, False), ((1, 2, 3, 5), 15, False), ((4, 1, 1, 33), 33, False),
             ((2, 2, 9), 9, True), ((5, 16), 16, False)]
INT8_FC = list(itertools.product(range(len(FC_SHAPES)), (True, False), (True, False)))
INT8_FC += [(i, pc, b) for i, pc, b in INT8_FC if i % 2][:16]       # other activations
FLOAT_FC = list(itertools.product(range(len(FC_SHAPES)), (True, False)))


def fc_graph(index, dtype, shape_index, per_channel, bias, w_dtype="int8"):
    x_shape, k, keep = FC_SHAPES[shape_index]
    rng = seeded("FULLY_CONNECTED", index, dtype)
    n = (1, 5, 8, 3)[index % 4]
    acts = ACTS if dtype == "int8" else ACTS[:-1]      # LiteRT's FC refuses a fused TANH
    attrs = dict(activation=acts[index % len(acts)], keep_num_dims=keep)
    return weighted_graph("FULLY_CONNECTED", rng, dtype, x_shape, (n, k), 0, attrs,
                          per_channel, bias, w_dtype)


@pytest.mark.parametrize("index,case", list(enumerate(INT8_FC)),
                         ids=[f"{i}-x{FC_SHAPES[s][0]}-{'pc' if pc else 'pt'}-"
                              f"{'bias' if b else 'nobias'}" for i, (s, pc, b) in
                              enumerate(INT8_FC)])
def test_fc_int8_tflm_exact(index, case):
    run_case(fc_graph(index, "int8", *case), seeded("FULLY_CONNECTED", index, "int8"), "int8")


@pytest.mark.parametrize("index,case", list(enumerate(FLOAT_FC)))
def test_fc_float_tflm_litert(index, case):
    graph = fc_graph(index, "float32", case[0], True, case[1])
    run_case(graph, seeded("FULLY_CONNECTED", index, "float32"), "float32")


@pytest.mark.parametrize("index", range(4))
def test_fc_int4_filter_per_tensor_tflm_exact(index):
    graph = fc_graph(index, "int8", index * 2, False, index % 2 == 0, w_dtype="int4")
    run_case(graph, seeded("FULLY_CONNECTED", 200 + index, "int8"), "int8")


def test_fc_per_tensor_multiplier_uses_float32_product():
    """TFLM forms s_in*s_w in float32 for per-tensor FC; the double product gives another M."""
    from toolchain.ops.fully_connected import per_tensor_multiplier
    from toolchain.arith.fixedpoint import quantize_multiplier

    rng = np.random.default_rng(11)
    differ = 0
    for s_in, s_w, s_out in rng.uniform(1e-3, 1e-1, (50, 3)).astype(np.float32):
        m32 = float(np.float32(s_in * s_w)) / float(s_out)
        assert per_tensor_multiplier(s_in, s_w, s_out) == quantize_multiplier(m32)
        differ += quantize_multiplier(float(s_in) * float(s_w) / float(s_out)) != \
            quantize_multiplier(m32)
    assert differ > 10


def test_fc_rejects_shuffled_weights_and_bad_bias_scale():
    opts = schema.FullyConnectedOptionsT()
    opts.weightsFormat = schema.FullyConnectedOptionsWeightsFormat.SHUFFLED4x16INT8
    with pytest.raises(GraphError, match="SHUFFLED4x16INT8"):
        registry.get("FULLY_CONNECTED").attrs_from_tflite(opts)
    x = oplab.act("x", (1, 4), scale=0.1)
    w = oplab.const("w", np.ones((2, 4), np.int8), scale=0.01)
    b = oplab.const("b", np.zeros(2, np.int32), scale=0.5)
    out = oplab.out_like("FULLY_CONNECTED", [x, w, b], {}, scale=0.01)
    with pytest.raises(GraphError, match="bias scale"):
        oplab.one_op("FULLY_CONNECTED", [x, w, b], {}, out)


# ------------------------------------------------------------- AVERAGE_POOL_2D and MAX_POOL_2D
# (filter, stride, padding); plus a global pool (filter = image) as in the KWS model
POOLS = list(itertools.product(((2, 2), (3, 3), (1, 3), (3, 2), (4, 4)), ((1, 1), (2, 2)),
                               ("SAME", "VALID")))
INT8_POOLS = POOLS + [("global", (1, 1), "VALID"), ("global", (2, 2), "SAME")] + POOLS[::3]
FLOAT_POOLS = POOLS[::2] + [("global", (1, 1), "VALID")]


def pool_graph(kind, index, dtype, case):
    filt, stride, pad = case
    rng = seeded(kind, index, dtype)
    h, w, c = 5 + index % 4, 9 - index % 3, 1 + index % 4
    if filt == "global":
        filt = (h, w)
    stride = (stride[0], stride[1] + (index % 5 == 0))
    attrs = dict(padding=pad, stride=stride, filter=filt, activation=ACTS[index % len(ACTS)])
    x_shape = (2 if index % 6 == 0 else 1, h, w, c)
    if dtype == "float32":
        x = oplab.act("x", x_shape, "float32")
        return oplab.one_op(kind, [x], attrs, oplab.out_like(kind, [x], attrs))
    s, zp = float(rng.uniform(0.01, 0.2)), int(rng.integers(-40, 41))
    x = oplab.act("x", x_shape, scale=s, zp=zp)
    return oplab.one_op(kind, [x], attrs, oplab.out_like(kind, [x], attrs, scale=s, zp=zp))


def pool_id(i, case):
    filt, stride, pad = case
    return f"{i}-f{filt[0] if filt == 'global' else filt}-s{stride[0]}-{pad}"


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("index,case", list(enumerate(INT8_POOLS)),
                         ids=[pool_id(i, c) for i, c in enumerate(INT8_POOLS)])
def test_pool_int8_tflm_exact(kind, index, case):
    run_case(pool_graph(kind, index, "int8", case), seeded(kind, index, "int8"), "int8")


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("index,case", list(enumerate(FLOAT_POOLS)),
                         ids=[pool_id(i, c) for i, c in enumerate(FLOAT_POOLS)])
def test_pool_float_tflm_litert(kind, index, case):
    run_case(pool_graph(kind, index, "float32", case), seeded(kind, index, "float32"),
             "float32")


def test_average_pool_rounds_raw_codes_half_away_from_zero():
    """Windows (1x2 and clipped 1x1 at the SAME border) whose means are exact halves."""
    attrs = dict(padding="SAME", stride=(1, 2), filter=(1, 2))
    x = oplab.act("x", (1, 1, 5, 1), scale=0.1, zp=50)
    out = oplab.out_like("AVERAGE_POOL_2D", [x], attrs, scale=0.1, zp=50)
    graph = oplab.one_op("AVERAGE_POOL_2D", [x], attrs, out)
    values = np.array([-1, -2, 1, 2, -7], np.int8).reshape(1, 1, 5, 1)
    ref, tflm = oplab.run_reference_and_tflm(graph, [values])
    np.testing.assert_array_equal(ref[0].ravel(), [-2, 2, -7])   # -1.5, 1.5, the lone -7
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_pool_requires_equal_quantization(kind):
    attrs = dict(padding="VALID", stride=(1, 1), filter=(2, 2))
    x = oplab.act("x", (1, 4, 4, 1), scale=0.1, zp=3)
    for scale, zp in ((0.1, 4), (0.1001, 3)):
        out = oplab.out_like(kind, [x], attrs, scale=scale, zp=zp)
        with pytest.raises(GraphError, match="quantization"):
            oplab.one_op(kind, [x], attrs, out)


# ----------------------------------------------------------------------- TFLite options, MACs
OPTION_CASES = [
    ("DEPTHWISE_CONV_2D", dict(padding="VALID", stride=(2, 1), dilation=(1, 2),
                               depth_multiplier=2, activation="RELU6")),
    ("FULLY_CONNECTED", dict(activation="RELU_N1_TO_1", keep_num_dims=True,
                             asymmetric_quantize_inputs=True)),
    ("AVERAGE_POOL_2D", dict(padding="SAME", stride=(2, 3), filter=(3, 1), activation="RELU")),
    ("MAX_POOL_2D", dict(padding="VALID", stride=(1, 2), filter=(2, 4), activation="NONE")),
    ("CONV_2D", dict(padding="SAME", stride=(1, 2), dilation=(2, 1), activation="TANH")),
]


@pytest.mark.parametrize("kind,attrs", OPTION_CASES, ids=[k for k, _ in OPTION_CASES])
def test_tflite_options_round_trip(kind, attrs):
    opdef = registry.get(kind)
    options = opdef.attrs_to_tflite(attrs)
    assert type(options).__name__ == opdef.tflite_options + "T"
    assert opdef.attrs_from_tflite(options) == attrs


def test_fc_options_absent_gives_defaults():
    attrs = registry.get("FULLY_CONNECTED").attrs_from_tflite(None)
    assert attrs == dict(activation="NONE", keep_num_dims=False,
                         asymmetric_quantize_inputs=False)


def test_macs():
    dw = conv_case("DEPTHWISE_CONV_2D", 1, "int8", (1, "SAME", 1, 2, True, True))
    fc = fc_graph(2, "int8", 4, True, True)                  # x (1,2,3,5), K=15 -> 2 rows
    macs = {op.kind: registry.get(op.kind).macs(registry.Node.of(g, op))
            for g in (dw, fc) for op in g.ops}
    (x, w), out = dw.op_inputs(dw.ops[0])[:2], dw.tensors[dw.outputs[0]]
    assert macs["DEPTHWISE_CONV_2D"] == int(np.prod(out.shape)) * w.shape[1] * w.shape[2]
    assert macs["FULLY_CONNECTED"] == 2 * 15 * fc.tensors[fc.outputs[0]].shape[-1]
