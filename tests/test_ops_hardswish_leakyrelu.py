"""HARD_SWISH and LEAKY_RELU (added for the ONNX frontend): int8 bit-exact with TFLite Micro
over seeded scales and zero points, float equal to LiteRT, and the TFLM preconditions."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from toolchain.ir import GraphError

CASES = {"HARD_SWISH": [{}], "LEAKY_RELU": [dict(alpha=0.1), dict(alpha=-0.3),
                                             dict(alpha=2.5), dict(alpha=0.0)]}
PARAMS = [(kind, attrs) for kind, options in CASES.items() for attrs in options]


def graph(kind, attrs, s_in, zp_in, s_out, zp_out, shape=(2, 5, 3, 17)):
    x = oplab.act("x", shape, scale=s_in, zp=zp_in)
    return oplab.one_op(kind, [x], attrs, oplab.out_like(kind, [x], attrs, scale=s_out,
                                                         zp=zp_out))


@pytest.mark.parametrize("kind,attrs", PARAMS, ids=[f"{k}-{a}" for k, a in PARAMS])
def test_int8_matches_tflm(kind, attrs):
    rng = np.random.default_rng([len(kind), int(10 * attrs.get("alpha", 1)) + 50])
    for _ in range(12):
        s_in = float(rng.uniform(0.002, 0.3))
        s_out = s_in * float(rng.uniform(0.2, 3.0))
        g = graph(kind, attrs, s_in, int(rng.integers(-128, 128)), s_out,
                  int(rng.integers(-128, 128)))
        oplab.check_tflm(g, rng)


@pytest.mark.parametrize("kind,attrs", PARAMS, ids=[f"{k}-{a}" for k, a in PARAMS])
def test_float_matches_litert_and_formula(kind, attrs, rng):
    x = oplab.act("x", (1, 4, 4, 9), "float32")
    g = oplab.one_op(kind, [x], attrs, oplab.out_like(kind, [x], attrs))
    ref = oplab.check_tflm(g, rng, litert=True)[0]
    assert ref.dtype == np.float32


def test_float_values():
    from toolchain.ops.interpreter import run_graph

    v = np.array([[-4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0]], np.float32)
    x = oplab.act("x", v.shape, "float32")
    hs = oplab.one_op("HARD_SWISH", [x], {}, oplab.out_like("HARD_SWISH", [x], {}))
    np.testing.assert_allclose(run_graph(hs, [v])[0], v * np.clip(v + 3, 0, 6) / 6, 1e-6)
    lr = oplab.one_op("LEAKY_RELU", [x], dict(alpha=0.25),
                      oplab.out_like("LEAKY_RELU", [x], dict(alpha=0.25)))
    np.testing.assert_array_equal(run_graph(lr, [v])[0], np.where(v > 0, v, v / 4))


def test_hard_swish_output_scale_below_tflm_limit_is_rejected():
    with pytest.raises(GraphError, match="HARD_SWISH: output scale"):
        graph("HARD_SWISH", {}, 0.5, 0, 0.5 / 256, 0)
