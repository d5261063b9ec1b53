"""FLOOR, CEIL, ROUND, SQUARE, LOG, SIN, COS (float32; TFLM has no integer kernel, so TF's
int8 converter keeps them in float between DEQUANTIZE and QUANTIZE): converter models run the
same in the reference, TFLite Micro, generated C on the host and under QEMU.

FLOOR, CEIL, ROUND and SQUARE are exact everywhere (atol 0; ROUND is TFLM's half-to-even
RoundToNearest, checked bit for bit including its +0.0 for -0.3). LOG, SIN and COS call libm:
the reference is the correctly rounded value (double, rounded once), glibc's logf / sinf /
cosf (TFLM and host C) and newlib's (QEMU) are within one ulp of it, so those compare within
LIBM_ATOL (one ulp of the largest output, |log| < 4) and in ulps on a one-op sweep."""
from __future__ import annotations


import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

EXACT = ["FLOOR", "CEIL", "ROUND", "SQUARE"]
LIBM = ["LOG", "SIN", "COS"]
LIBM_ATOL = 4.8e-7     # one ulp at 4 (float32 spacing 2^-21); outputs here stay below
SHAPES = [(1, 4, 4, 8), (2, 3, 5)]


def exact_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.floor(a * 3.0), tf.math.ceil(b * 3.0), tf.round(a * 4.0), tf.square(b)]


def libm_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.math.log(tf.abs(a) + 0.1), tf.sin(a * 3.0), tf.cos(b * 3.0)]


@pytest.fixture(scope="module", params=("float32", "int8"))
def exact(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(exact_model), SHAPES, request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def libm(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(libm_model), SHAPES, "float32", tmp_path_factory)


def test_converter_emits_the_ops(exact, libm):
    assert set(EXACT) <= co.kinds(exact), co.kinds(exact)
    assert set(LIBM) <= co.kinds(libm), co.kinds(libm)


def test_reference_equals_tflm(exact, libm):
    co.check_tflm(exact, atol=0)
    co.check_tflm(libm, atol=LIBM_ATOL)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(exact, libm, executor, target):
    co.check_c(exact, executor, target, atol=0)
    co.check_c(libm, executor, target, atol=LIBM_ATOL)


def sweep(kind: str) -> np.ndarray:
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(2048) * 8).astype(np.float32)
    x[:16] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0.3, -0.0, 0.0, 8388607.5, -8388609.0,
              3e9, np.inf, -np.inf, np.nan, 1e-30]
    return np.abs(x) + np.float32(1e-3) if kind == "LOG" else x


def one_op(kind: str, n: int, dtype: str = "float32"):
    return oplab.one_op(kind, [oplab.act("x", (n,), dtype)], {}, oplab.act("out", (n,), dtype))


def ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in float32 steps (same-sign finite values; NaN vs NaN is 0)."""
    a, b = np.asarray(a, np.float32).ravel(), np.asarray(b, np.float32).ravel()
    d = np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))
    return np.where(np.isnan(a) & np.isnan(b), 0, d)


@pytest.mark.parametrize("kind", EXACT + LIBM)
def test_sweep_vs_tflm_and_host_c(kind):
    """Exact ops bit for bit (signed zeros, ties, inf, NaN); libm ops within one ulp of the
    reference, and host C's glibc bit for bit equal to TFLM's (the same libm)."""
    x = sweep(kind)
    g = one_op(kind, x.size)
    ref, tflm = oplab.run_reference_and_tflm(g, [x])
    host = np.asarray(get_executor("host")(g, [x]).outputs[0]).ravel()
    tflm = np.asarray(tflm[0]).ravel()
    limit = 1 if kind in LIBM else 0
    for label, got in (("tflm", tflm), ("host", host)):
        far = np.flatnonzero(ulps(ref[0], got) > limit)
        assert far.size == 0, f"{kind} {label}: " + ", ".join(
            f"[{i}] x={x[i]!r} want {ref[0][i]!r} got {got[i]!r}" for i in far[:50])
    oplab.assert_exact(tflm.view(np.int32), host.view(np.int32), f"{kind} host vs tflm bits")


def test_round_is_half_to_even_with_tflm_zero():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0.3, 0.49999997], np.float32)
    got = run_graph(one_op("ROUND", x.size), [x])[0]
    want = np.array([0, 2, 2, 0, -2, -2, 0, 0], np.float32)     # -0.5 and -0.3 give +0.0
    oplab.assert_exact(want.view(np.int32), got.view(np.int32), "ROUND bits")


def test_integer_inputs_are_refused():
    for kind in EXACT + LIBM:
        with pytest.raises(GraphError, match=f"{kind}: dtype int8 not supported"):
            one_op(kind, 4, "int8")


@pytest.mark.parametrize("kind", EXACT + LIBM)
def test_written_file_runs_in_litert_default_resolver(kind, pool):
    from toolchain.verify.litert import run_litert_default

    x = sweep(kind)[16:80]
    g = one_op(kind, x.size)
    got = np.asarray(pool.submit(run_litert_default, write_tflite(g), [x]).result()[0])
    oplab.assert_close(run_graph(g, [x])[0], got.reshape(-1), LIBM_ATOL, "litert default")
