"""SQUARED_DIFFERENCE: converter models (float32, int8, 16x8; equal shapes and broadcasting)
run the same in the reference, TFLite Micro, generated C on the host and under QEMU; int8
over every (q1, q2) pair on seeded scales and zero points."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab

SHAPES = [(1, 4, 4, 8), (1, 4, 4, 8), (8,), (3, 1, 1)]
GRID = np.arange(-128, 128).astype(np.int8)


def squared_differences(a, b, c, d):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    sd = tf.math.squared_difference
    return [sd(a, b), sd(a, c), sd(d, c)]


@pytest.fixture(scope="module", params=co.MODES)
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(squared_differences), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_squared_difference(model):
    assert "SQUARED_DIFFERENCE" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


@pytest.mark.parametrize("seed", range(6))
def test_int8_every_input_pair_matches_tflm(seed):
    rng = np.random.default_rng(40 + seed)
    s1, s2 = (float(10 ** rng.uniform(-3, 0)) for _ in range(2))
    s_out = max(s1, s2) ** 2 * float(10 ** rng.uniform(0, 3))
    zp1, zp2, zpo = (int(z) for z in rng.integers(-128, 128, 3))
    x = oplab.act("x", (256, 1), "int8", s1, zp1)
    y = oplab.act("y", (1, 256), "int8", s2, zp2)
    g = oplab.one_op("SQUARED_DIFFERENCE", [x, y], {},
                     oplab.act("out", (256, 256), "int8", s_out, zpo))
    ref, tflm = oplab.run_reference_and_tflm(g, [GRID.reshape(256, 1), GRID.reshape(1, 256)])
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")


def test_output_scale_too_small_is_refused():
    from toolchain.ir import GraphError

    x, y = oplab.act("x", (4,), "int8", 1.0, 0), oplab.act("y", (4,), "int8", 1.0, 0)
    with pytest.raises(GraphError, match="SQUARED_DIFFERENCE: .* too large"):
        oplab.one_op("SQUARED_DIFFERENCE", [x, y], {}, oplab.act("out", (4,), "int8", 1e-20, 0))
