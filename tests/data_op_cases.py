"""Random one-op graphs of the data-movement ops and their check: the numpy reference equals
TFLite Micro and LiteRT bit for bit, and the written .tflite read back computes the same
(tests/test_ops_data_*.py)."""
from __future__ import annotations

import numpy as np

import oplab
from oplab import act, assert_exact, const, one_op, out_like
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm


SEEDS = range(10)
DTYPES = ("int8", "float32", "int16", "int32")


def i32(name, values):
    return const(name, np.asarray(values, np.int32))


def rand_shape(rng, rank, lo=1, hi=5):
    return tuple(int(d) for d in rng.integers(lo, hi + 1, rank))


def rand_act(rng, name, shape, dtype, quant=None):
    """An activation; int8 gets a random (scale, zp) unless `quant` is given."""
    if dtype != "int8":
        return act(name, shape, dtype)
    scale, zp = quant or (float(rng.uniform(0.01, 0.5)), int(rng.integers(-128, 128)))
    return act(name, shape, "int8", scale, zp)


def out_for(kind, ins, attrs, like):
    """The inferred output, with the quant params of tensor `like`."""
    q = like.quant
    return out_like(kind, ins, attrs, scale=q.s if q else None, zp=q.zp if q else None)


def check(graph: Graph, rng, tflm=True, litert=True):
    """Reference vs TFLM and LiteRT on random inputs: every executor equal bit for bit.

    The written .tflite is also read back: the reloaded graph must compute the same outputs.
    """
    inputs = oplab.random_inputs(graph, rng)
    ref = run_graph(graph, inputs)
    model = write_tflite(graph)
    for i, (want, got) in enumerate(zip(ref, run_graph(load_tflite(model), inputs))):
        assert_exact(want, got, f"reloaded output {i}")
    runs = [("tflm", run_tflm)] * tflm + [("litert", run_litert)] * litert
    for name, run in runs:
        outs = run(model, inputs)
        for i, (want, got) in enumerate(zip(ref, outs)):
            assert_exact(want, np.asarray(got).reshape(want.shape), f"{name} output {i}")
    return ref


def build(kind, ins, attrs):
    return one_op(kind, ins, attrs, out_for(kind, ins, attrs, ins[0]))
