"""ADD_N: TF's converter (tf.math.add_n over float32, and over int32 between CASTs) runs the
same in the reference, TFLite Micro (float32) or LiteRT (int32, which TFLM does not run),
generated C on the host and under QEMU; int8 ADD_N (TFLM's kernel; TF's int8 converter keeps
ADD_N in float) is checked on one-op models over several scales, zero points and input
counts against TFLM, host C and QEMU, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import Graph, GraphError, Op
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

SHAPES = [(1, 4, 4, 8), (2, 3, 5)]


def addn_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.math.add_n([a, a * 2.0, tf.nn.relu(a)]), tf.math.add_n([b, -b])]


def int_addn_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    x, y = tf.cast(a * 1000.0, tf.int32), tf.cast(b * 1000.0, tf.int32)
    return [tf.cast(tf.math.add_n([x, x, tf.cast(a * 7.0, tf.int32)]), tf.float32),
            tf.cast(tf.math.add_n([y, y]), tf.float32)]


@pytest.fixture(scope="module", params=("float32", "int32"))
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    fn = addn_model if request.param == "float32" else int_addn_model
    return co.build(tf.function(fn), SHAPES, "float32", tmp_path_factory)


def is_int32(model) -> bool:
    return any(t.dtype == "int32" for t in model.graph.tensors.values())


def test_converter_emits_add_n(model):
    assert "ADD_N" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm_or_litert(model, pool):
    """float32 vs TFLM; int32 vs LiteRT's default resolver (converter's and written file)."""
    from toolchain.verify.litert import run_litert_default

    if not is_int32(model):
        co.check_tflm(model, atol=0)
        return
    for i, x in enumerate(model.cases):
        want = run_graph(model.graph, x)
        for tag, blob in (("converter", model.blob), ("written", write_tflite(model.graph))):
            got = pool.submit(run_litert_default, blob, x).result()
            for k, (a, b) in enumerate(zip(want, got)):
                co.assert_same(a, b, f"litert {tag} case {i} output {k}", 0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


# (inputs, shape, input scale, input zp, output scale, output zp)
INT8_CASES = [(2, (1, 4, 4, 8), 0.05, 0, 0.1, 0), (3, (37,), 0.02, -17, 0.05, 5),
              (5, (2, 3, 7), 0.1, 100, 0.3, -128), (4, (64,), 0.007, -128, 0.007, -128)]


def int8_graph():
    """One graph holding an ADD_N per case (one C build per executor for all of them)."""
    tensors, ops, inputs, outputs = [], [], [], []
    for k, (n, shape, s_in, zp_in, s_out, zp_out) in enumerate(INT8_CASES):
        ins = [oplab.act(f"c{k}_x{i}", shape, "int8", s_in, zp_in) for i in range(n)]
        out = oplab.act(f"c{k}_out", shape, "int8", s_out, zp_out)
        tensors += ins + [out]
        ops.append(Op("ADD_N", [t.name for t in ins], [out.name], {}))
        inputs += [t.name for t in ins]
        outputs.append(out.name)
    return Graph.build(tensors, ops, inputs, outputs).validate()


@pytest.fixture(scope="module")
def int8_run():
    """The int8 graph, inputs over the full int8 range, the reference outputs."""
    rng = np.random.default_rng(5)
    g = int8_graph()
    x = [rng.integers(-128, 128, g.tensors[n].shape).astype(np.int8) for n in g.inputs]
    return g, x, run_graph(g, x)


def test_int8_reference_equals_tflm(int8_run):
    from toolchain.verify.tflm import run_tflm

    g, x, want = int8_run
    got = run_tflm(write_tflite(g), x)
    for k, w in enumerate(want):
        oplab.assert_exact(w, np.asarray(got[k]).reshape(w.shape), f"case {INT8_CASES[k]} tflm")


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_int8_generated_c_equals_reference(int8_run, executor, target):
    g, x, want = int8_run
    kw = {} if target is None else dict(target=target)
    got = get_executor(executor)(g, x, **kw).outputs
    for k, w in enumerate(want):
        oplab.assert_exact(w, np.asarray(got[k]).reshape(w.shape),
                           f"case {INT8_CASES[k]} {executor} {target}")


def test_int8_inputs_must_share_quantization():
    ins = [oplab.act("a", (4,), "int8", 0.05, 0), oplab.act("b", (4,), "int8", 0.1, 0)]
    with pytest.raises(GraphError, match="share one scale and zero point"):
        oplab.one_op("ADD_N", ins, {}, oplab.act("out", (4,), "int8", 0.1, 0))


def test_fitml_ptq_ties_the_inputs_and_equals_tflm():
    """fitml's quantizer gives ADD_N's inputs one (scale, zp) (TFLM requires it) and the
    output its own range; the int8 graph equals TFLM bit for bit."""
    from ptq_cases import assert_tflm_equal
    from toolchain.ir import Tensor
    from toolchain.quant.ptq import quantize

    rng = np.random.default_rng(4)
    f = lambda name: Tensor(name, (2, 8), "float32")                    # noqa: E731
    consts = [Tensor(n, s, "float32", data=rng.normal(0, sd, s).astype(np.float32))
              for n, s, sd in (("w", (8, 5), 0.6), ("b", (8,), 0.1), ("v", (8, 5), 0.2))]
    fc = dict(activation="NONE", keep_num_dims=False)
    ops = [Op("FULLY_CONNECTED", ["x", "w", "b"], ["a"], fc),
           Op("FULLY_CONNECTED", ["x", "v", "b"], ["c"], fc), Op("RELU", ["a"], ["r"]),
           Op("ADD_N", ["a", "c", "r"], ["y"])]
    g = Graph.build([Tensor("x", (2, 5), "float32"), *consts] + [f(n) for n in "acry"], ops,
                    ["x"], ["y"]).validate()
    calib = [[rng.normal(0, 1, (2, 5)).astype(np.float32)] for _ in range(8)]
    q = quantize(g, calib, progress=False)
    params = {n: (q.tensors[n].quant.s, q.tensors[n].quant.zp) for n in "acry"}
    assert params["a"] == params["c"] == params["r"] != params["y"], params
    assert_tflm_equal(q, write_tflite(q), [[rng.normal(0, 1.5, (2, 5)).astype(np.float32)]
                                           for _ in range(3)], "fc fc relu add_n")


def test_fitml_ptq_refuses_fixed_range_inputs_mixed_with_others():
    from toolchain.errors import ModelError
    from toolchain.ir import Tensor
    from toolchain.quant.ptq import quantize

    t = [Tensor(n, (2, 4), "float32") for n in ("x", "s", "y")]
    g = Graph.build(t, [Op("LOGISTIC", ["x"], ["s"]), Op("ADD_N", ["x", "s"], ["y"])],
                    ["x"], ["y"]).validate()
    with pytest.raises(ModelError, match=r"op 1 \(ADD_N, output 'y'\) adds outputs of fixed"):
        quantize(g, [[np.ones((2, 4), np.float32)]], progress=False)
