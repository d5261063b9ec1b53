"""L2_NORMALIZATION: TF's converter (tf.math.l2_normalize over the last axis; float32, and int8
with its output scale 1/128) runs the same in the reference, TFLite Micro, generated C on the
host and under QEMU, bit for bit; one-op sweeps (zero rows, single codes, every zero point)
match TFLM and host C; the written file runs in LiteRT's default resolver."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

SHAPES = [(1, 4, 4, 8), (3, 17)]


def l2norm_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.math.l2_normalize(a * 3.0, axis=-1), tf.math.l2_normalize(b, axis=-1)]


@pytest.fixture(scope="module", params=("float32", "int8"))
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(l2norm_model), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_l2_normalization(model):
    assert "L2_NORMALIZATION" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def one_op(dtype: str, shape, zp: int = 0):
    if dtype == "float32":
        x, y = oplab.act("x", shape, "float32"), oplab.act("y", shape, "float32")
    else:
        x, y = oplab.act("x", shape, "int8", 0.05, zp), oplab.act("y", shape, "int8", 1 / 128, 0)
    return oplab.one_op("L2_NORMALIZATION", [x], {}, y)


def sweep(dtype: str, zp: int = 0):
    rng = np.random.default_rng(8)
    if dtype == "float32":
        x = (rng.standard_normal((64, 24)) * 10 ** rng.uniform(-8, 8, (64, 1))).astype(np.float32)
        x[0], x[1, :] = 0.0, 1e-30      # a zero row and one below epsilon
        return x
    x = rng.integers(-128, 128, (64, 24)).astype(np.int8)
    x[0], x[1] = zp, zp                 # sums 0 and 1 (GetInvSqrt's special case)
    x[1, 3] = zp + 1 if zp < 127 else zp - 1
    x[2:10] = np.clip(zp + rng.integers(-2, 3, (8, 24)), -128, 127)
    return x


@pytest.mark.parametrize("dtype,zp", [("float32", 0), ("int8", 0), ("int8", -128), ("int8", 77)])
def test_sweep_vs_tflm_litert_and_host_c(dtype, zp, pool):
    from toolchain.verify.litert import run_litert_default
    from toolchain.verify.tflm import run_tflm

    x = sweep(dtype, zp)
    g = one_op(dtype, x.shape, zp)
    want = run_graph(g, [x])[0]
    blob = write_tflite(g)
    runs = {"tflm": run_tflm(blob, [x])[0], "host": get_executor("host")(g, [x]).outputs[0],
            "litert default": pool.submit(run_litert_default, blob, [x]).result()[0]}
    for label, got in runs.items():
        got = np.asarray(got).reshape(want.shape)
        if label.startswith("litert"):   # LiteRT's optimized kernel: the loaded file runs
            oplab.assert_close(want.astype(np.float64), got.astype(np.float64),
                               1e-6 if dtype == "float32" else 1, f"{dtype} {label}")
            continue
        if dtype == "float32":
            want_bits, got_bits = want.view(np.int32), got.view(np.int32)
        else:
            want_bits, got_bits = want, got
        oplab.assert_exact(want_bits, got_bits, f"{dtype} zp {zp} {label}")


def test_fused_activation_and_output_scale_are_checked():
    x = oplab.act("x", (2, 4), "float32")
    with pytest.raises(GraphError, match="requires NONE"):
        oplab.one_op("L2_NORMALIZATION", [x], dict(activation="RELU"),
                     oplab.act("y", (2, 4), "float32"))
    with pytest.raises(GraphError, match="scale 1/128"):
        oplab.one_op("L2_NORMALIZATION", [oplab.act("q", (2, 4), "int8", 0.05, 0)], {},
                     oplab.act("y", (2, 4), "int8", 0.05, 0))


def test_fitml_ptq_of_fc_elu_l2_normalization_equals_tflm():
    """fitml's own quantizer: ELU takes its observed range, L2_NORMALIZATION TFLite's fixed
    output (1/128, 0); the int8 graph equals TFLM bit for bit."""
    from ptq_cases import assert_tflm_equal
    from toolchain.ir import Graph, Op, Tensor
    from toolchain.quant.ptq import quantize

    rng = np.random.default_rng(9)
    f = lambda name, shape: Tensor(name, shape, "float32")              # noqa: E731
    w = Tensor("w", (12, 6), "float32", data=rng.normal(0, 0.5, (12, 6)).astype(np.float32))
    b = Tensor("b", (12,), "float32", data=rng.normal(0, 0.1, 12).astype(np.float32))
    ops = [Op("FULLY_CONNECTED", ["x", "w", "b"], ["h"],
              dict(activation="NONE", keep_num_dims=False)),
           Op("ELU", ["h"], ["e"]), Op("L2_NORMALIZATION", ["e"], ["y"])]
    g = Graph.build([f("x", (3, 6)), w, b, f("h", (3, 12)), f("e", (3, 12)), f("y", (3, 12))],
                    ops, ["x"], ["y"]).validate()
    calib = [[rng.normal(0, 1, (3, 6)).astype(np.float32)] for _ in range(8)]
    q = quantize(g, calib, progress=False)
    assert [op.kind for op in q.ops] == ["FULLY_CONNECTED", "ELU", "L2_NORMALIZATION"]
    assert (q.tensors["y"].quant.s, q.tensors["y"].quant.zp) == (1.0 / 128, 0)
    assert_tflm_equal(q, write_tflite(q), [[rng.normal(0, 1.5, (3, 6)).astype(np.float32)]
                                           for _ in range(3)], "fc elu l2norm")
