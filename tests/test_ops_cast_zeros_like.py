"""CAST (float32, int8, int16, int32, bool, every pair) and ZEROS_LIKE (float32, int32,
int64): the reference equals TFLite Micro on seeded full-range inputs (floats beyond the integer
ranges: TFLM saturates them), and generated C equals the reference on the host and under QEMU;
TF's converter CAST between float32, int32 and bool loads and runs the same."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.ir import Graph, GraphError, Op
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

TYPES = ("float32", "int8", "int16", "int32", "bool")
PAIRS = [(a, b) for a in TYPES for b in TYPES if a != b]


def quant(dtype):
    """int8 / int16 activations carry a (scale, zero point) in fitml graphs; CAST ignores it."""
    return (1.0, 0) if dtype in ("int8", "int16") else (None, None)


def values(dtype, shape, rng):
    if dtype == "float32":
        return (rng.standard_normal(shape) * 200).astype(np.float32)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(np.bool_)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, shape).astype(dtype)


def cast_graph(a, b, shape=(3, 7)):
    x = oplab.act("x", shape, a, *quant(a))
    return oplab.one_op("CAST", [x], {"dtype": b}, oplab.act("out", shape, b, *quant(b)))


@pytest.mark.parametrize("a,b", PAIRS)
def test_cast_matches_tflm(a, b):
    rng = np.random.default_rng(TYPES.index(a) * 5 + TYPES.index(b))
    g = cast_graph(a, b)
    ref, tflm = oplab.run_reference_and_tflm(g, [values(a, (3, 7), rng)])
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
def test_zeros_like_matches_tflm(dtype):
    x = oplab.act("x", (2, 5), dtype)
    g = oplab.one_op("ZEROS_LIKE", [x], {}, oplab.act("out", (2, 5), dtype))
    ref, tflm = oplab.run_reference_and_tflm(g, [np.arange(10).reshape(2, 5).astype(dtype)])
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")
    assert not ref[0].any()


def chain_graph() -> Graph:
    """float32 -> every other type and back through CAST, plus ZEROS_LIKE: one C program."""
    t, ops, outs = {"x": oplab.act("x", (4, 6), "float32")}, [], []
    for b in TYPES[1:]:
        mid, back = f"to_{b}", f"back_{b}"
        t[mid] = oplab.act(mid, (4, 6), b, *quant(b))
        t[back] = oplab.act(back, (4, 6), "float32")
        ops += [Op("CAST", ["x"], [mid], {"dtype": b}), Op("CAST", [mid], [back], {})]
        outs += [mid, back]
    for a, b in (("int8", "int16"), ("int32", "int8"), ("int16", "bool"), ("bool", "int32")):
        name = f"{a}_to_{b}"
        t[name] = oplab.act(name, (4, 6), b, *quant(b))
        ops.append(Op("CAST", [f"to_{a}"], [name], {"dtype": b}))
        outs.append(name)
    t["zeros"] = oplab.act("zeros", (4, 6), "float32")
    ops.append(Op("ZEROS_LIKE", ["x"], ["zeros"], {}))
    return Graph.build(t.values(), ops, ["x"], outs + ["zeros"]).validate()


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(executor, target):
    graph = chain_graph()
    run = get_executor(executor)
    kw = {} if target is None else dict(target=target)
    rng = np.random.default_rng(12)
    for i in range(2):
        x = [values("float32", (4, 6), rng)]
        for k, (want, got) in enumerate(zip(run_graph(graph, x), run(graph, x, **kw).outputs)):
            co.assert_same(want, got, f"{executor} {target} case {i} output {k}", atol=0)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")

    def casts(a):
        i = tf.cast(a * 10.0, tf.int32)
        return [tf.cast(i, tf.float32), tf.cast(tf.cast(a, tf.bool), tf.float32)]
    return co.build(tf.function(casts), [(2, 3, 5)], "float32", tmp_path_factory, low=-20,
                    high=20)


def test_converter_cast_model(converted):
    assert "CAST" in co.kinds(converted), co.kinds(converted)
    co.check_tflm(converted, atol=0)
    co.check_c(converted, "host", None, atol=0)


def test_unsupported_cast_types_are_refused():
    x = oplab.act("x", (4,), "float32")
    with pytest.raises(GraphError, match="CAST: output dtype int64 not supported"):
        oplab.one_op("CAST", [x], {"dtype": "int64"}, oplab.act("out", (4,), "int64"))
