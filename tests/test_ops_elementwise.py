"""ADD, SUB, MUL, QUANTIZE, DEQUANTIZE, RELU, RELU6: numpy reference vs TFLite Micro.

Integers are compared exactly, floats within 1e-5 (LiteRT too). Scales, zero points and inputs
come from seeded RNGs; hand-derivable cases check the arithmetic without any oracle.
"""
from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import oplab
from conftest import shared_model
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError, Op
from toolchain.ops import registry
from toolchain.arith.addsub import addsub_int8, addsub_multipliers
from toolchain.ops.broadcast import broadcast_shape
from toolchain.arith import fixedpoint as fp
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph

A = oplab.act
ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
# (s1, s2, s_out): input scales far apart either way, equal, output finer / coarser
SCALES = [(0.5, 0.004, 0.3), (0.003, 0.4, 0.2), (0.05, 0.05, 0.05), (0.1, 0.08, 0.012),
          (0.02, 0.03, 0.5)]
SHAPES = [((1, 4, 4, 8), (1, 4, 4, 8)), ((1, 4, 4, 8), (1, 1, 1, 8)), ((2, 3, 1), (3, 4)),
          ((1,), (2, 5)), ((1, 1, 1, 1), (1, 3, 3, 4)), ((2, 1, 3, 1, 4), (1, 2, 1, 5, 1))]
GRID = np.arange(-128, 128)


def binary(kind, sa, sb, dtype="int8", q1=(0.05, 0), q2=(0.05, 0), qo=(0.05, 0), act="NONE"):
    """One-op graph `kind(x, y)` with per-tensor params (scale, zp) for integer dtypes."""
    quant = dtype in ("int8", "int16")
    x = A("x", sa, dtype, *(q1 if quant else (None, None)))
    y = A("y", sb, dtype, *(q2 if quant else (None, None)))
    out = A("out", np.broadcast_shapes(sa, sb), dtype, *(qo if quant else (None, None)))
    return oplab.one_op(kind, [x, y], {"activation": act}, out)


def unary(kind, shape, dtype, out_dtype, qi=(None, None), qo=(None, None), attrs=None):
    return oplab.one_op(kind, [A("x", shape, dtype, *qi)], attrs or {},
                        A("out", shape, out_dtype, *qo))


def assert_tflm(graph, inputs, litert=False, atol=1e-5):
    """Reference == TFLM (exact for integers; floats within atol), optionally LiteRT too."""
    runs = (oplab.run_litert_too if litert else oplab.run_reference_and_tflm)(graph, inputs)
    ref = runs[0][0]
    for name, outs in zip(("tflm", "litert"), runs[1:]):
        got = np.asarray(outs[0]).reshape(ref.shape)
        if ref.dtype.kind == "f":
            oplab.assert_close(ref, got, atol, name)
        else:
            oplab.assert_exact(ref, got, name)
    return ref


# ---- broadcasting rule --------------------------------------------------------------------

@pytest.mark.parametrize("a,b", SHAPES + [((), (3,)), ((7, 1), (1,)), ((0, 3), (1, 3))])
def test_broadcast_shape_matches_numpy(a, b):
    assert broadcast_shape(a, b) == np.broadcast_shapes(a, b)
    assert broadcast_shape(b, a) == np.broadcast_shapes(b, a)


def test_broadcast_shape_errors():
    with pytest.raises(GraphError, match=r"\[2, 3\] and \[4, 3\] do not broadcast"):
        broadcast_shape((2, 3), (4, 3), "ADD")
    with pytest.raises(GraphError, match="rank 7 exceeds the supported 6"):
        broadcast_shape((1,) * 7, (1,), "MUL")


def test_binary_infer_errors():
    add = registry.get("ADD")
    op = Op("ADD", ["x", "y"], ["out"])
    with pytest.raises(GraphError, match="dtypes differ"):
        add.infer(op, [A("x", (2,)), A("y", (2,), "float32")])
    with pytest.raises(GraphError, match="bool not supported"):
        add.infer(op, [A("x", (2,), "bool"), A("y", (2,), "bool")])
    with pytest.raises(GraphError, match="missing input 1"):
        add.infer(op, [A("x", (2,)), None])
    with pytest.raises(GraphError, match="do not broadcast"):
        oplab.one_op("SUB", [A("x", (2, 3)), A("y", (3, 2))], {}, A("out", (2, 3)))


# ---- int8 ADD / SUB / MUL vs TFLM ---------------------------------------------------------

@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("si", range(len(SCALES)))
@pytest.mark.parametrize("hi", range(len(SHAPES)))
def test_binary_int8_matches_tflm(kind, si, hi):
    rng = np.random.default_rng(1000 * si + hi)
    s1, s2, so = SCALES[si]
    zp1, zp2, zpo = (int(z) for z in rng.integers(-128, 128, 3))
    act = ACTS[(si + hi) % len(ACTS)]
    if kind == "MUL":  # keep the product's scale in reach of the output
        so = s1 * s2 * float(rng.uniform(0.5, 40.0))
    g = binary(kind, *SHAPES[hi], q1=(s1, zp1), q2=(s2, zp2), qo=(so, zpo), act=act)
    out = assert_tflm(g, oplab.random_inputs(g, rng))
    lo, hi_ = fp.activation_bounds(act, np.float32(so), zpo)
    assert out.min() >= lo and out.max() <= hi_


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("seed", range(12))
def test_binary_int8_every_input_pair(kind, seed):
    """All 65536 (q1, q2) pairs on random scales, zero points and activation.

    Seeds 8+ use power-of-two scales: exact multipliers put many results on rounding ties,
    where the two rounding steps show (and a 1-ulp error in MUL's multiplier).
    """
    rng = np.random.default_rng(100 + seed)
    if seed >= 8:
        s1, s2 = (2.0 ** -int(k) for k in rng.integers(1, 10, 2))
        ratio = 2.0 ** int(rng.integers(-6, 4))
    else:
        s1, s2 = (float(10 ** rng.uniform(-3, 0)) for _ in range(2))
        ratio = float(10 ** rng.uniform(-1.5, 2.5) if kind == "MUL" else 10 ** rng.uniform(-1, 1))
    so = s1 * s2 * ratio if kind == "MUL" else max(s1, s2) * ratio
    zp1, zp2, zpo = (int(z) for z in rng.integers(-128, 128, 3))
    g = binary(kind, (256, 1), (1, 256), q1=(s1, zp1), q2=(s2, zp2), qo=(so, zpo),
               act=ACTS[seed % len(ACTS)])
    x = GRID.astype(np.int8).reshape(256, 1)
    assert_tflm(g, [x, x.reshape(1, 256)])


def _differing_scales(sign: int, seed: int):
    """Scales whose double and float32 multiplier derivations give other codes somewhere."""
    rng = np.random.default_rng(seed)
    while True:
        s1, s2, so = (float(np.float32(10 ** rng.uniform(-3, 0))) for _ in range(3))
        double, real = addsub_multipliers(s1, s2, so)
        single, _ = addsub_multipliers(s1, s2, so, float32=True)
        if real >= 1 or double == single:
            continue
        b = addsub_int8(GRID[:, None], GRID[None, :], 3, -5, 1, single, sign, -128, 127)
        a = addsub_int8(GRID[:, None], GRID[None, :], 3, -5, 1, double, sign, -128, 127)
        if (a != b).any():
            return (s1, s2, so), single


@pytest.mark.parametrize("kind,sign", [("ADD", 1), ("SUB", -1)])
@pytest.mark.parametrize("seed", [11, 12])
def test_addsub_multipliers_derived_in_double(kind, sign, seed):
    """Every (q1, q2) pair, on scales where a float32 derivation would change some codes.

    TFLITE_INT8.md (TFLM 90b983c2) derives SUB's multipliers in float32; the tflite-micro
    we verify against (and LiteRT) use double for SUB as for ADD, and so does the reference.
    """
    (s1, s2, so), single = _differing_scales(sign, seed)
    g = binary(kind, (256, 1), (1, 256), q1=(s1, 3), q2=(s2, -5), qo=(so, 1))
    x = GRID.astype(np.int8).reshape(256, 1)
    ref = assert_tflm(g, [x, x.reshape(1, 256)], litert=True)
    wrong = addsub_int8(GRID[:, None], GRID[None, :], 3, -5, 1, single, sign, -128, 127)
    assert (wrong != ref).any(), "the float32 derivation should disagree with TFLM somewhere"


@pytest.mark.parametrize("kind,sign", [("ADD", 1), ("SUB", -1)])
def test_addsub_equal_scales_is_saturating_integer_op(kind, sign):
    """s1 = s2 = s_out, zero points 0: multipliers are exact powers of two, out = q1 +- q2."""
    g = binary(kind, (256, 1), (1, 256), q1=(0.25, 0), q2=(0.25, 0), qo=(0.25, 0))
    x = GRID.astype(np.int8).reshape(256, 1)
    out = run_graph(g, [x, x.reshape(1, 256)])[0]
    want = np.clip(GRID[:, None] + sign * GRID[None, :], -128, 127).astype(np.int8)
    np.testing.assert_array_equal(out, want)


def test_mul_unit_multiplier_is_saturating_product():
    g = binary("MUL", (256, 1), (1, 256), q1=(0.5, 0), q2=(0.25, 0), qo=(0.125, 0))
    x = GRID.astype(np.int8).reshape(256, 1)
    out = run_graph(g, [x, x.reshape(1, 256)])[0]
    want = np.clip(GRID[:, None] * GRID[None, :], -128, 127).astype(np.int8)
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
def test_addsub_rejects_output_scale_too_small(kind):
    with pytest.raises(GraphError, match="too small"):
        binary(kind, (4,), (4,), q1=(1.0, 0), q2=(0.5, 0), qo=(1e-7, 0))


@pytest.mark.parametrize("ratio", [1e-4, 0.3, 1.0, 7.5, 300.0, 2.0 ** 18])
def test_mul_multiplier_either_side_of_one(ratio):
    """m = s1*s2/s_out below and above 1 (positive shift: MBQM shifts left first)."""
    rng = np.random.default_rng(int(ratio * 1000) % 9973)
    s1, s2 = 0.02, 0.07
    g = binary("MUL", (3, 5, 7), (5, 1), q1=(s1, 9), q2=(s2, -3), qo=(s1 * s2 / ratio, -4))
    assert_tflm(g, oplab.random_inputs(g, rng))


@pytest.mark.parametrize("act", ACTS)
def test_mul_int16_and_int32(act):
    rng = np.random.default_rng(ACTS.index(act))
    g16 = binary("MUL", (2, 3, 4), (4,), "int16", (0.01, 0), (0.002, 0), (0.0004, 0), act)
    assert_tflm(g16, oplab.random_inputs(g16, rng))
    g32 = binary("MUL", (2, 3, 4), (3, 1), "int32", act=act)
    inputs = oplab.random_inputs(g32, rng)
    out = assert_tflm(g32, inputs)
    if act == "RELU6":
        assert out.max() <= 6 and out.min() >= 0


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
def test_addsub_int32(kind):
    rng = np.random.default_rng(5)
    g = binary(kind, (1, 4, 4, 3), (1, 1, 4, 1), "int32")
    assert_tflm(g, oplab.random_inputs(g, rng))


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("act", ACTS)
def test_binary_float_matches_tflm_and_litert(kind, act):
    rng = np.random.default_rng(ACTS.index(act) * 7 + len(kind))
    for sa, sb in SHAPES[:4]:
        g = binary(kind, sa, sb, "float32", act=act)
        inputs = [(rng.standard_normal(t) * 3).astype(np.float32) for t in (sa, sb)]
        assert_tflm(g, inputs, litert=True)


def test_real_model_adds_match_tflm():
    """The three residual ADDs of MLPerf Tiny ResNet-8, with their exact quantization."""
    path = shared_model("mlperf_tiny/ic/pretrainedResnet_quant.tflite")
    model = schema.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    sub, rng, count = model.subgraphs[0], np.random.default_rng(8), 0
    for op in sub.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) != schema.BuiltinOperator.ADD:
            continue
        ts = [sub.tensors[i] for i in list(op.inputs) + list(op.outputs)]
        q = [(float(t.quantization.scale[0]), int(t.quantization.zeroPoint[0])) for t in ts]
        shape = tuple(int(d) for d in ts[0].shape)
        act = registry.get("ADD").attrs_from_tflite(op.builtinOptions)["activation"]
        g = binary("ADD", shape, tuple(int(d) for d in ts[1].shape), q1=q[0], q2=q[1],
                   qo=q[2], act=act)
        assert_tflm(g, oplab.random_inputs(g, rng))
        count += 1
    assert count == 3


# ---- QUANTIZE / DEQUANTIZE ----------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_quantize_float_to_int8(seed):
    rng = np.random.default_rng(seed)
    scale, zp = float(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128))
    g = unary("QUANTIZE", (4, 50), "float32", "int8", qo=(scale, zp))
    x = (rng.standard_normal((4, 50)) * scale * 60).astype(np.float32)
    assert_tflm(g, [x])


def test_quantize_rounds_ties_away_from_zero():
    """v/s exactly k + 0.5 (power-of-two scale): roundf goes away from zero, np.round to even."""
    scale, zp = 2.0 ** -5, -3
    g = unary("QUANTIZE", (2, 100), "float32", "int8", qo=(scale, zp))
    k = np.arange(-100, 100).reshape(2, 100)
    x = ((k + 0.5) * scale).astype(np.float32)
    out = assert_tflm(g, [x])
    want = np.clip(np.where(k >= 0, k + 1, k) + zp, -128, 127)
    np.testing.assert_array_equal(out, want.astype(np.int8))
    assert (np.clip(np.round(k + 0.5) + zp, -128, 127) != want).any()


def test_quantize_float_to_int16_and_uint8():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((3, 40)) * 4).astype(np.float32)
    g16 = unary("QUANTIZE", (3, 40), "float32", "int16", qo=(1 / 4096, 0),
                attrs={"dtype": "int16"})
    assert_tflm(g16, [x])
    # TFLM has no float -> uint8 kernel: LiteRT's reference kernel is the oracle
    gu8 = unary("QUANTIZE", (3, 40), "float32", "uint8", qo=(0.03, 128),
                attrs={"dtype": "uint8"})
    ref = run_graph(gu8, [x])[0]
    oplab.assert_exact(ref, run_litert(write_tflite(gu8), [x])[0].reshape(ref.shape), "litert")


REQUANT = [  # (in dtype, out dtype, (s_in, zp_in), (s_out, zp_out))
    ("int8", "int8", (0.05, 3), (0.2, -10)), ("int8", "int8", (0.05, 3), (0.011, 7)),
    ("int8", "int8", (0.05, 3), (0.05, -60)), ("int8", "uint8", (0.05, -128), (0.05, 0)),
    ("int8", "uint8", (0.05, 10), (0.03, 120)), ("uint8", "int8", (0.02, 128), (0.02, 0)),
    ("uint8", "int8", (0.02, 100), (0.07, -3)), ("int8", "int16", (0.05, 3), (0.001, 0)),
    ("int16", "int8", (0.0005, 0), (0.04, 5)), ("int16", "int16", (0.0005, 0), (0.0002, 0)),
    ("int8", "int32", (0.05, 3), (0.0001, 0)), ("int32", "int8", (0.01, 0), (0.3, -2)),
]


@pytest.mark.parametrize("case", range(len(REQUANT)))
def test_requantize_matches_tflm(case):
    src, dst, qi, qo = REQUANT[case]
    g = unary("QUANTIZE", (6, 43), src, dst, qi, qo, attrs={"dtype": dst})
    assert_tflm(g, oplab.random_inputs(g, np.random.default_rng(case)))


@pytest.mark.parametrize("kind", ["QUANTIZE", "RELU"])
def test_requantize_every_code(kind):
    """All 256 int8 codes through 24 random (s_in, zp_in, s_out, zp_out) sets."""
    rng = np.random.default_rng(21)
    q = GRID.astype(np.int8).reshape(1, 256)
    for _ in range(24):
        s_in, s_out = (float(10 ** rng.uniform(-3, 0)) for _ in range(2))
        zp_in, zp_out = (int(z) for z in rng.integers(-128, 128, 2))
        g = unary(kind, (1, 256), "int8", "int8", (s_in, zp_in), (s_out, zp_out))
        assert_tflm(g, [q])


def test_requantize_xor_path_and_identity():
    """Equal scales: int8 -> uint8 with zero points 128 apart flips the top bit."""
    q = GRID.astype(np.int8).reshape(1, 256)
    g = unary("QUANTIZE", (1, 256), "int8", "uint8", (0.1, -128), (0.1, 0), {"dtype": "uint8"})
    np.testing.assert_array_equal(assert_tflm(g, [q]), (q.view(np.uint8) ^ 0x80))
    u = q.view(np.uint8)
    g = unary("QUANTIZE", (1, 256), "uint8", "int8", (0.1, 128), (0.1, 0))
    np.testing.assert_array_equal(assert_tflm(g, [u]), (u ^ 0x80).view(np.int8))
    g = unary("QUANTIZE", (1, 256), "int8", "int8", (0.1, 5), (0.1, 5))
    np.testing.assert_array_equal(assert_tflm(g, [q]), q)


def test_quantize_infer():
    q = registry.get("QUANTIZE")
    op = Op("QUANTIZE", ["x"], ["out"])
    assert q.infer(op, [A("x", (2, 3), "float32")]) == [((2, 3), "int8")]
    assert q.infer(op, [A("x", (2,), "int16")]) == [((2,), "int16")]
    with pytest.raises(GraphError, match="float32 -> int32 not supported"):
        q.infer(Op("QUANTIZE", ["x"], ["out"], {"dtype": "int32"}), [A("x", (2,), "float32")])


@pytest.mark.parametrize("dtype,q", [("int8", (0.05, -7)), ("int16", (0.0003, 0)),
                                     ("uint8", (0.02, 131))])
def test_dequantize_is_exact(dtype, q):
    g = unary("DEQUANTIZE", (4, 64), dtype, "float32", qi=q)
    x = oplab.random_inputs(g, np.random.default_rng(len(dtype)))
    ref = assert_tflm(g, x, litert=True, atol=0.0)
    want = (np.float32(q[0]) * (x[0].astype(np.float32) - np.float32(q[1])))
    np.testing.assert_array_equal(ref, want)


def test_dequantize_per_channel():
    rng = np.random.default_rng(4)
    w = rng.integers(-127, 128, (3, 2, 5)).astype(np.int8)
    scales = np.array([0.1, 0.02, 0.3], np.float32)
    c = oplab.const("w", w, scale=scales, axis=0)
    g = oplab.one_op("DEQUANTIZE", [c], {}, A("out", (3, 2, 5), "float32"))
    out = run_graph(g, [])[0]
    np.testing.assert_array_equal(out, scales[:, None, None] * w.astype(np.float32))


# ---- RELU / RELU6 -------------------------------------------------------------------------

RELU_Q = [((0.05, 3), (0.05, 3)), ((0.05, 3), (0.02, -128)), ((0.03, -100), (0.1, 20)),
          ((0.2, 60), (0.01, -50))]


@pytest.mark.parametrize("case", range(len(RELU_Q)))
@pytest.mark.parametrize("kind", ["RELU", "RELU6"])
def test_relu_int8_matches_tflm(kind, case):
    qi, qo = RELU_Q[case]
    g = unary(kind, (5, 51), "int8", "int8", qi, qo)
    inputs = oplab.random_inputs(g, np.random.default_rng(case))
    out = assert_tflm(g, inputs, litert=qi == qo)
    if kind == "RELU":
        assert out.min() >= qo[1]


def test_relu6_clamps_raw_input_codes():
    """TFLM RELU6 reads only the input quantization: codes clamp to [zp_in, q(6)]."""
    q = GRID.astype(np.int8).reshape(1, 256)
    for (s, zp), top in [((0.1, -20), 40), ((0.01, 5), 127)]:
        g = unary("RELU6", (1, 256), "int8", "int8", (s, zp), (0.5, 0))
        np.testing.assert_array_equal(assert_tflm(g, [q]), np.clip(q, zp, top))


@pytest.mark.parametrize("kind", ["RELU", "RELU6"])
def test_relu_int16_matches_tflm(kind):
    g = unary(kind, (4, 30), "int16", "int16", (0.001, 0), (0.0007, 0))
    assert_tflm(g, oplab.random_inputs(g, np.random.default_rng(2)))


@pytest.mark.parametrize("kind", ["RELU", "RELU6"])
def test_relu_float_matches_tflm_and_litert(kind):
    g = unary(kind, (3, 4, 20), "float32", "float32")
    x = (np.random.default_rng(6).standard_normal((3, 4, 20)) * 5).astype(np.float32)
    out = assert_tflm(g, [x], litert=True)
    np.testing.assert_array_equal(out, np.clip(x, 0, 6 if kind == "RELU6" else None))


def test_unary_checks():
    with pytest.raises(GraphError, match="zero point 0"):
        unary("RELU", (2,), "int16", "int16", (0.01, 1), (0.01, 0))
    with pytest.raises(GraphError, match="int32 not supported"):
        unary("RELU6", (2,), "int32", "int32")


# ---- options and costs --------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
def test_binary_options_round_trip(kind):
    opdef = registry.get(kind)
    assert opdef.tflite_options == kind.capitalize() + "Options"
    for act in ACTS:
        options = opdef.attrs_to_tflite({"activation": act})
        assert type(options).__name__ == opdef.tflite_options + "T"
        assert opdef.attrs_from_tflite(options) == {"activation": act}
    assert opdef.attrs_from_tflite(None) == {"activation": "NONE"}


@pytest.mark.parametrize("kind", ["QUANTIZE", "DEQUANTIZE", "RELU", "RELU6"])
def test_unary_have_no_options(kind):
    opdef = registry.get(kind)
    assert opdef.tflite_options is None and opdef.attrs_to_tflite({}) is None


def test_macs():
    from toolchain.ops.registry import Node
    for kind, want in [("MUL", 2 * 3 * 4), ("ADD", 0), ("SUB", 0)]:
        g = binary(kind, (2, 3, 1), (3, 4))
        assert registry.get(kind).macs(Node.of(g, g.ops[0])) == want


def test_tflite_reader_round_trip():
    """write_tflite -> load_tflite keeps kind and attrs, and the reference gives equal codes."""
    from toolchain.frontends.tflite import load_tflite

    rng = np.random.default_rng(9)
    graphs = [binary(k, (2, 3, 4), (4,), q1=(0.1, 2), q2=(0.03, -9), qo=(0.2, 4), act=a)
              for k, a in [("ADD", "RELU"), ("SUB", "RELU6"), ("MUL", "RELU_N1_TO_1")]]
    graphs += [unary("RELU", (5, 6), "int8", "int8", (0.1, 3), (0.05, -100)),
               unary("RELU6", (5, 6), "int8", "int8", (0.1, 3), (0.1, 3)),
               unary("DEQUANTIZE", (5, 6), "int8", "float32", (0.1, 3)),
               unary("QUANTIZE", (5, 6), "float32", "int8", qo=(0.1, 3))]
    for g in graphs:
        back = load_tflite(write_tflite(g))
        assert [(op.kind, dict(op.attrs)) for op in back.ops] == \
            [(op.kind, dict(op.attrs)) for op in g.ops]
        inputs = oplab.random_inputs(g, rng)
        np.testing.assert_array_equal(run_graph(back, inputs)[0], run_graph(g, inputs)[0])
