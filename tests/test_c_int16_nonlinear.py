"""int16 LOGISTIC, TANH, SOFTMAX, RELU, RELU6 and DEQUANTIZE C kernels equal the numpy reference
bit for bit: each kernel through ctypes on the host (UBSan build) over the graphs of
tests/test_ops_int16_nonlinear.py (which checks that reference against TFLite Micro), then a
graph chaining them as generated C on the host and under QEMU on Cortex-M4 and Cortex-M0.
"""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import oplab
import test_ops_int16_nonlinear as cases
from test_c_int16 import run_c
from toolchain.backends import cruntime
from toolchain.backends.c import lower
from toolchain.ir import Graph, Op
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

KERNELS = ["fitml_logistic_s16", "fitml_tanh_s16", "fitml_softmax_s16", "fitml_requantize_s16",
           "fitml_relu6_s16", "fitml_dequantize_s16_f32"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    out = tmp_path_factory.mktemp("cruntime16nl")
    return ctypes.CDLL(str(cruntime.build_host_library(out, KERNELS)))


def check(lib, graph, inputs, kernel: str, seed: int = 0):
    want = run_graph(graph, inputs)[0]
    name, got = run_c(lib, graph, inputs, np.random.default_rng(seed))
    assert name == kernel
    oplab.assert_exact(want, got, kernel)


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
def test_logistic_tanh_s16(lib, kind):
    for s_in in cases.SIGMOID_SCALES:
        check(lib, cases.unary_graph(kind, cases.FULL.shape, s_in), [cases.FULL],
              f"fitml_{kind.lower()}_s16")


def test_softmax_s16(lib):
    for shape, s_in, beta in cases.SOFTMAX_CASES:
        rng = np.random.default_rng(shape[-1])
        graph = cases.unary_graph("SOFTMAX", shape, s_in, attrs=dict(beta=beta))
        check(lib, graph, [cases.softmax_inputs(shape, rng)], "fitml_softmax_s16")


def test_relu_relu6_dequantize_s16(lib):
    for s_in, s_out in [(1 / 4096, 1 / 4096), (3e-4, 1e-4), (1e-4, 7e-4)]:
        check(lib, cases.unary_graph("RELU", cases.FULL.shape, s_in, s_out), [cases.FULL],
              "fitml_requantize_s16")
        check(lib, cases.unary_graph("RELU6", cases.FULL.shape, s_in, s_in), [cases.FULL],
              "fitml_relu6_s16")
        x = oplab.act("x", cases.FULL.shape, "int16", scale=s_in)
        graph = oplab.one_op("DEQUANTIZE", [x], {}, oplab.act("out", x.shape, "float32"))
        check(lib, graph, [cases.FULL], "fitml_dequantize_s16_f32")


def chain_graph() -> Graph:
    """float in -> QUANTIZE int16 -> RELU -> RELU6 -> TANH; LOGISTIC and SOFTMAX of the
    quantized input; DEQUANTIZE of the softmax: float and int16 outputs."""
    t, ops = {}, []

    def add(kind, ins, scale, attrs=None, dtype="int16", shape=(1, 6, 6, 5)):
        name = f"t{len(ops)}"
        t[name] = oplab.act(name, shape, dtype, scale=scale, zp=None if scale is None else 0)
        ops.append(Op(kind, ins, [name], attrs or {}))
        return name

    t["x"] = oplab.act("x", (1, 6, 6, 5), "float32")
    q = add("QUANTIZE", ["x"], 1 / 3000, dict(dtype="int16"))
    r = add("RELU", [q], 1 / 2500)
    r6 = add("RELU6", [r], 1 / 2500)
    th = add("TANH", [r6], cases.Q15)
    lg = add("LOGISTIC", [q], cases.Q15)
    sm = add("SOFTMAX", [q], cases.Q15, dict(beta=1.0))
    d = add("DEQUANTIZE", [sm], None, dtype="float32")
    return Graph.build(t.values(), ops, ["x"], [d, th, lg]).validate()


def test_chain_lowers_to_every_new_kernel():
    used = {c.kernel for c in lower(chain_graph()).calls}
    assert set(KERNELS) <= used, used


@pytest.mark.parametrize("executor,target", [("host", None), ("qemu", "cortex-m4"),
                                             ("qemu", "cortex-m0")])
def test_chain_c_bit_exact(executor, target):
    graph = chain_graph()
    rng = np.random.default_rng(23)
    run = get_executor(executor)
    kw = {} if target is None else dict(target=target)
    for i in range(2):
        x = [(rng.standard_normal((1, 6, 6, 5)) * 6).astype(np.float32)]
        want = run_graph(graph, x)
        got = run(graph, x, **kw).outputs
        for k, (a, b) in enumerate(zip(want, got)):
            oplab.assert_exact(a, np.asarray(b).reshape(a.shape),
                               f"{executor} {target} case {i} output {k}")
