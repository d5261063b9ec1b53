"""CUMSUM: TF's converter (tf.math.cumsum over several axes, exclusive and reverse; float32, and
int8 PTQ, where the converter keeps CUMSUM in float between DEQUANTIZE and QUANTIZE) runs the
same in the reference, TFLite Micro, generated C on the host and under QEMU, bit for bit. int8
CUMSUM, which the converter never emits but TFLM runs, is checked on one-op graphs over seeded
scales and zero points (TFLM's sum starts at the rescaled -zp_in, so zero points matter) and
long axes whose int32 sum wraps; int32 (LiteRT only) against LiteRT and host C."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

SHAPES = [(2, 5, 3), (1, 4, 4, 6), (9,)]


def cumsum_model(a, b, c):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.math.cumsum(a, axis=1), tf.math.cumsum(a, axis=-1, exclusive=True, reverse=True),
            tf.math.cumsum(b, axis=3, exclusive=True), tf.math.cumsum(b, axis=0),
            tf.math.cumsum(c, reverse=True)]


@pytest.fixture(scope="module", params=("float32", "int8"))
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(cumsum_model), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_cumsum(model):
    assert "CUMSUM" in co.kinds(model), co.kinds(model)
    flags = {(op.attr("exclusive"), op.attr("reverse")) for op in model.graph.ops
             if op.kind == "CUMSUM"}
    assert {(False, False), (True, True), (True, False), (False, True)} <= flags, flags


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def test_written_file_runs_in_litert_default_resolver(model, pool):
    for k, want, got_k in co.litert_default_outputs(model, pool):
        if want.dtype == np.float32:
            oplab.assert_close(want, got_k, 1e-5, f"litert default output {k}")
        else:   # QUANTIZE after a float CUMSUM: LiteRT's optimized kernel may round a step
            assert np.abs(want.astype(np.int64) - got_k).max() <= 1, k


# (shape, axis, exclusive, reverse): a long axis makes the int32 sum of (q - zp) << 19 wrap
INT8_CASES = [((2, 20, 3), 1, False, False), ((2, 20, 3), 1, True, True),
              ((4, 33), -1, False, True), ((5, 2, 2, 3), 0, True, False)]


def int8_graph(case, seed: int):
    shape, axis, exclusive, reverse = case
    rng = np.random.default_rng(70 + seed)
    s_in = float(10 ** rng.uniform(-3, 0))
    s_out = s_in * float(10 ** rng.uniform(0, 1.5))
    zp_in, zp_out = (int(z) for z in rng.integers(-128, 128, 2))
    x = oplab.act("x", shape, "int8", s_in, zp_in)
    axis_t = oplab.const("axis", np.array([axis], np.int32))
    return oplab.one_op("CUMSUM", [x, axis_t], dict(exclusive=exclusive, reverse=reverse),
                        oplab.act("out", shape, "int8", s_out, zp_out))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("case", range(len(INT8_CASES)))
def test_int8_equals_tflm_and_host_c(case, seed):
    g = int8_graph(INT8_CASES[case], seed)
    x = oplab.random_inputs(g, np.random.default_rng(seed))
    ref, tflm = oplab.run_reference_and_tflm(g, x)
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")
    oplab.assert_exact(ref[0], get_executor("host")(g, x).outputs[0], "host")


def test_int8_under_qemu():
    g = int8_graph(INT8_CASES[1], 0)
    co.check_c(co.Model(g, b"", [oplab.random_inputs(g, np.random.default_rng(9))]), "qemu",
               "cortex-m4", atol=0)


def test_int32_wraps_as_litert_and_host_c():
    from toolchain.verify.litert import run_litert

    x = np.random.default_rng(4).integers(-2 ** 31, 2 ** 31, (3, 40)).astype(np.int32)
    for exclusive, reverse in ((False, False), (True, True)):
        g = oplab.one_op("CUMSUM", [oplab.act("x", x.shape, "int32"),
                                    oplab.const("axis", np.array(1, np.int32))],
                         dict(exclusive=exclusive, reverse=reverse),
                         oplab.act("out", x.shape, "int32"))
        want = run_graph(g, [x])[0]
        oplab.assert_exact(want, np.asarray(run_litert(write_tflite(g), [x])[0]), "litert")
        oplab.assert_exact(want, get_executor("host")(g, [x]).outputs[0], "host")


@pytest.mark.parametrize("x, axis, needle", [
    (oplab.act("x", (2, 3), "int16"), [1], "int16 input"),
    (oplab.act("x", (2, 3), "float32"), [2], "axis \\[2\\] must be one value"),
    (oplab.act("x", (2, 3), "float32"), [0, 1], "must be one value"),
    (oplab.act("x", (2, 3), "float32"), np.array([1], np.int64), "is int64; TFLite takes int32"),
])
def test_what_tflite_refuses_is_refused(x, axis, needle):
    axis_t = oplab.const("axis", axis if isinstance(axis, np.ndarray)
                         else np.array(axis, np.int32))
    with pytest.raises(GraphError, match=needle):
        oplab.one_op("CUMSUM", [x, axis_t], {}, oplab.act("out", (2, 3), x.dtype))


def test_runtime_axis_is_refused():
    x, axis_t = oplab.act("x", (2, 3), "float32"), oplab.act("axis", (1,), "int32")
    with pytest.raises(GraphError, match="axis 'axis' must be a constant"):
        oplab.one_op("CUMSUM", [x, axis_t], {}, oplab.act("out", (2, 3), "float32"))
