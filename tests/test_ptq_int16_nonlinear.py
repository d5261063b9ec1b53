"""int16 PTQ of models with LOGISTIC, TANH and SOFTMAX: those ops now run their 16x8 forms
with TFLM's fixed output params (1/32768, 0), the params flow through the ops sharing them, and
the quantized graph runs bit-exact in TFLite Micro and as generated C (host; QEMU Cortex-M4)."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import Graph, Op, Tensor
from toolchain.ops.quantize import quantize_float
from toolchain.quant import mixed
from toolchain.quant.ptq import quantize
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm

Q15 = (1.0 / 32768, 0)


def float_graph(rng) -> Graph:
    """conv -> LOGISTIC and TANH -> ADD -> MAX_POOL -> RESHAPE -> FC -> SOFTMAX -> RESHAPE."""
    f = lambda name, shape: Tensor(name, shape, "float32")              # noqa: E731
    c = lambda name, a, dt="float32": Tensor(name, a.shape, dt, data=np.asarray(a, dt))  # noqa
    t = [f("x", (1, 8, 8, 3)), f("a", (1, 8, 8, 6)), f("lg", (1, 8, 8, 6)),
         f("th", (1, 8, 8, 6)), f("s", (1, 8, 8, 6)), f("p", (1, 4, 4, 6)), f("flat", (1, 96)),
         f("logits", (1, 10)), f("sm", (1, 10)), f("out", (1, 2, 5)),
         c("w1", rng.normal(0, 0.4, (6, 3, 3, 3))), c("b1", rng.normal(0, 0.1, 6)),
         c("w2", rng.normal(0, 0.3, (10, 96))), c("b2", rng.normal(0, 0.1, 10)),
         c("shape1", np.array([1, 96]), "int32"), c("shape2", np.array([1, 2, 5]), "int32")]
    conv = dict(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE")
    ops = [Op("CONV_2D", ["x", "w1", "b1"], ["a"], conv), Op("LOGISTIC", ["a"], ["lg"]),
           Op("TANH", ["a"], ["th"]), Op("ADD", ["lg", "th"], ["s"], dict(activation="NONE")),
           Op("MAX_POOL_2D", ["s"], ["p"], dict(padding="VALID", stride=(2, 2), filter=(2, 2),
                                                activation="NONE")),
           Op("RESHAPE", ["p", "shape1"], ["flat"]),
           Op("FULLY_CONNECTED", ["flat", "w2", "b2"], ["logits"],
              dict(activation="NONE", keep_num_dims=False)),
           Op("SOFTMAX", ["logits"], ["sm"], dict(beta=1.0)), Op("RESHAPE", ["sm", "shape2"],
                                                                 ["out"])]
    return Graph.build(t, ops, ["x"], ["out"]).validate()


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(31)
    graph = float_graph(rng)
    calib = [[rng.normal(0, 1, (1, 8, 8, 3)).astype(np.float32)] for _ in range(16)]
    test = [[rng.normal(0, 1.3, (1, 8, 8, 3)).astype(np.float32)] for _ in range(4)]
    return graph, calib, test


def _codes(q, x):
    t = q.tensors[q.inputs[0]]
    return x if t.dtype == "float32" else quantize_float(x, t.quant.s, t.quant.zp, t.dtype)


def _assert_tflm_exact(q, cases, label):
    blob = write_tflite(q)
    for i, (x,) in enumerate(cases):
        ours = run_graph(q, [_codes(q, x)])[0]
        theirs = np.asarray(run_tflm(blob, [_codes(q, x)])[0]).reshape(ours.shape)
        oplab.assert_exact(ours, theirs, f"{label} case {i}")


def _params(q, name):
    return (q.tensors[name].quant.s, q.tensors[name].quant.zp)


@pytest.mark.parametrize("io", ["int8", "float"])
def test_whole_model_int16_with_nonlinear_ops_is_tflm_exact(model, io):
    graph, calib, test = model
    q = quantize(graph, calib, io=io, activations="int16", progress=False)
    inner = [op for op in q.ops if op.kind not in ("QUANTIZE", "DEQUANTIZE")]
    assert all(q.tensors[op.inputs[0]].dtype == "int16" for op in inner), inner
    for name in ("lg", "th"):
        assert _params(q, name) == Q15
    sm = next(op for op in q.ops if op.kind == "SOFTMAX").outputs[0]
    assert _params(q, sm) == Q15 and q.tensors[sm].dtype == "int16"
    tail = next(op for op in q.ops if op.kind == "RESHAPE" and op.inputs[0] == sm)
    assert _params(q, tail.outputs[0]) == Q15          # the RESHAPE after it shares them
    if io == "int8":     # output int8: SOFTMAX int16 then QUANTIZE down
        assert _params(q, "out") == (1.0 / 256, -128)
    else:
        assert q.ops[-1].kind == "DEQUANTIZE" and q.tensors[q.ops[-1].inputs[0]].dtype == "int16"
    _assert_tflm_exact(q, test, f"int16 io={io}")


def test_softmax_alone_int16_in_an_int8_model(model):
    graph, calib, test = model
    q = quantize(graph, calib, activations={"sm": "int16"}, progress=False)
    kinds = [(op.kind, q.tensors[op.inputs[0]].dtype, q.tensors[op.outputs[0]].dtype)
             for op in q.ops]
    assert ("SOFTMAX", "int16", "int16") in kinds and ("RESHAPE", "int16", "int16") in kinds
    assert ("LOGISTIC", "int8", "int8") in kinds
    assert mixed.plan(graph, {"sm": "int16"}).int16_ops == {7, 8}
    _assert_tflm_exact(q, test, "softmax int16")


@pytest.mark.parametrize("executor,target", [("host", None), ("qemu", "cortex-m4")])
def test_int16_model_c_bit_exact(model, executor, target):
    graph, calib, test = model
    q = quantize(graph, calib, io="float", activations="int16", progress=False)
    run = get_executor(executor)
    kw = {} if target is None else dict(target=target)
    for i, x in enumerate(test[:2]):
        want = run_graph(q, x)[0]
        got = np.asarray(run(q, x, **kw).outputs[0]).reshape(want.shape)
        oplab.assert_exact(want, got, f"{executor} case {i}")
