"""ELU: TF's converter (tf.nn.elu; its int8 mode keeps ELU in float between DEQUANTIZE and
QUANTIZE) runs the same in the reference, TFLite Micro, generated C on the host and under QEMU
(expm1f is libm's: within one ulp, LIBM_ATOL); int8 ELU (TFLM's 256-entry table) is checked on
one-op models over scales and zero points against TFLM, host C and QEMU, bit for bit; the
written file runs in LiteRT's default resolver."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import Graph, Node, Op
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

SHAPES = [(1, 4, 4, 8), (2, 3, 5)]
LIBM_ATOL = 6e-8      # one ulp below 1 (outputs of the negative side lie in (-1, 0))


def elu_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.nn.elu(a * 3.0), tf.nn.elu(b - 1.0)]


@pytest.fixture(scope="module", params=("float32", "int8"))
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(elu_model), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_elu(model):
    assert "ELU" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=LIBM_ATOL)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=LIBM_ATOL)


# (input scale, zp, output scale, zp): wide and narrow ranges, outputs clamping at -1
INT8_CASES = [(0.05, 0, 0.05, 0), (0.1, -20, 0.02, 60), (0.02, 100, 0.008, -3),
              (0.3, 127, 1.0 / 128, 0)]


@pytest.fixture(scope="module")
def int8_graph():
    """One graph of four int8 ELUs (one per case), each over every input code."""
    tensors, ops = [], []
    for k, (s_in, zp_in, s_out, zp_out) in enumerate(INT8_CASES):
        tensors += [oplab.act(f"x{k}", (256,), "int8", s_in, zp_in),
                    oplab.act(f"y{k}", (256,), "int8", s_out, zp_out)]
        ops.append(Op("ELU", [f"x{k}"], [f"y{k}"], {}))
    n = len(INT8_CASES)
    g = Graph.build(tensors, ops, [f"x{k}" for k in range(n)], [f"y{k}" for k in range(n)])
    return g.validate(), [np.arange(-128, 128, dtype=np.int8)] * n


@pytest.mark.parametrize("executor,target", [("tflm", None)] + co.EXECUTORS)
def test_int8_table_equals_tflm_host_and_qemu(int8_graph, executor, target):
    from toolchain.verify.tflm import run_tflm

    g, x = int8_graph
    want = run_graph(g, x)
    if executor == "tflm":
        got = run_tflm(write_tflite(g), x)
    else:
        got = get_executor(executor)(g, x, **({} if target is None else dict(target=target)))
        got = got.outputs
    for k, w in enumerate(want):
        oplab.assert_exact(w, np.asarray(got[k]).reshape(w.shape),
                           f"case {INT8_CASES[k]} {executor} {target}")


def test_int8_lowers_to_the_table(int8_graph):
    from toolchain.ops import registry

    g = int8_graph[0]
    node = Node.of(g, g.ops[0])
    assert registry.get("ELU").lower_c(node).kernel == "fitml_lut_s8"


def test_float_sweep_vs_tflm_and_host(pool):
    from toolchain.verify.litert import run_litert_default
    from toolchain.verify.tflm import run_tflm

    rng = np.random.default_rng(3)
    x = (rng.standard_normal(2048) * 10 ** rng.uniform(-8, 2, 2048)).astype(np.float32)
    x[:6] = [-0.0, 0.0, -np.inf, np.inf, np.nan, -1e-30]
    g = oplab.one_op("ELU", [oplab.act("x", x.shape, "float32")], {},
                     oplab.act("y", x.shape, "float32"))
    want = run_graph(g, [x])[0]
    blob = write_tflite(g)
    runs = {"tflm": run_tflm(blob, [x])[0], "host": get_executor("host")(g, [x]).outputs[0],
            "litert default": pool.submit(run_litert_default, blob, [x]).result()[0]}
    for label, got in runs.items():
        got = np.asarray(got, np.float32).reshape(-1)
        d = np.abs(want.view(np.int32).astype(np.int64) - got.view(np.int32).astype(np.int64))
        d = np.where(np.isnan(want) & np.isnan(got), 0, d)
        far = np.flatnonzero(d > 1)
        assert far.size == 0, f"{label}: " + ", ".join(
            f"[{i}] x={x[i]!r} want {want[i]!r} got {got[i]!r}" for i in far[:50])
