"""ADD, SUB, MUL: numpy reference vs TFLite Micro (integers exactly, floats within 1e-5, LiteRT
too), the broadcasting rule, every int8 input pair, the multipliers derived in double, the
hand-derivable saturating cases, int16 / int32, a real model's ADDs."""
from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from elementwise_cases import A, ACTS, GRID, SCALES, SHAPES, assert_tflm, binary
import oplab
from conftest import shared_model
from toolchain.ir import GraphError, Op
from toolchain.ops import registry
from toolchain.arith.addsub import addsub_int8, addsub_multipliers
from toolchain.ops.broadcast import broadcast_shape
from toolchain.arith import fixedpoint as fp
from toolchain.ops.interpreter import run_graph


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
