"""QUANTIZE and DEQUANTIZE: numpy reference vs TFLite Micro (float to int8 / int16 / uint8,
ties away from zero, requantize on every code and its XOR path, per-channel dequantize)."""
from __future__ import annotations

import numpy as np
import pytest

from elementwise_cases import A, GRID, assert_tflm, unary
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError, Op
from toolchain.ops import registry
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph


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
