"""The int16 (16x8) C kernels equal the numpy reference bit for bit, each kernel through ctypes on
the host (UBSan build): conv, depthwise, FC, ADD/SUB, pools, MEAN, (re)quantize, and the 64-bit
multiply-by-quantized-multiplier of the support header. The one-op graphs are the seeded cases of
tests/int16_cases.py, checked against TFLite Micro in tests/test_ops_int16_*.py; the whole chain
as generated C is in tests/test_c_int16_chain.py."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import oplab
import int16_cases as cases
from toolchain.backends import cruntime
from toolchain.lowering.ccall import Scratch, TensorRef
from toolchain.ops import registry
from toolchain.ops.registry import Node
from toolchain.arith import fixedpoint as fp
from toolchain.ops.interpreter import run_graph


KERNELS = ["fitml_conv_s16", "fitml_depthwise_conv_s16", "fitml_fully_connected_s16",
           "fitml_add_s16", "fitml_sub_s16", "fitml_maxpool_s16", "fitml_avgpool_s16",
           "fitml_mean_s16", "fitml_requantize_s8_s16", "fitml_requantize_s16_s8",
           "fitml_requantize_s16", "fitml_quantize_f32_s16"]
SHIM = """#include "fitml/fitml.h"
#include "fitml/fitml_support.h"
void t_mbqm64(const int64_t *x, const int32_t *m, const int32_t *s, int32_t *out, int32_t n);
void t_mbqm64(const int64_t *x, const int32_t *m, const int32_t *s, int32_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        out[i] = fitml_mbqm64(x[i], m[i], s[i]);
    }
}
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    out = tmp_path_factory.mktemp("cruntime16")
    (out / "shim.c").write_text(SHIM)
    return ctypes.CDLL(str(cruntime.build_host_library(out, KERNELS,
                                                       extra_sources=[out / "shim.c"])))


def run_c(lib, graph, inputs, rng):
    """The graph's single op through its C kernel (params from its lower_c); the output."""
    node = Node.of(graph, graph.ops[0])
    call = registry.get(node.op.kind).lower_c(node)
    values = {n: t.data for n, t in graph.tensors.items() if t.is_const}
    values.update({n: np.ascontiguousarray(v) for n, v in zip(graph.inputs, inputs)})
    out_t = node.outs[0]
    garbage = np.frombuffer(rng.bytes(out_t.nbytes), np.uint8).copy()
    values[out_t.name] = garbage.view(np.dtype(out_t.dtype)).reshape(out_t.shape)
    params, keep = cruntime.to_ctypes(call.params_type, call.params, values.__getitem__)
    args = [ctypes.byref(params)]
    for a in call.args:
        assert isinstance(a, TensorRef) and not isinstance(a, Scratch), a
        args.append(ctypes.c_void_p(values[a.name].ctypes.data))
    status = getattr(lib, call.kernel)(*args)
    assert status == 0, f"{call.kernel} returned status {status}"
    return call.kernel, values[out_t.name]


def check(lib, graph, inputs, rng, kernel: str):
    want = run_graph(graph, inputs)[0]
    name, got = run_c(lib, graph, inputs, rng)
    assert name == kernel
    oplab.assert_exact(want, got, kernel)


def test_mbqm64_c_equals_python(lib):
    rng = np.random.default_rng(11)
    n = 20000
    x = np.concatenate([rng.integers(-2**47, 2**47, n - 6), [0, -1, 1, 2**47 - 1, -2**47, 7]])
    m = rng.integers(2**30, 2**31, n)
    m[:4] = [0x7FFF0000, 0x7FFEFFFF, 2**31 - 1, 2**30]
    s = rng.integers(-31, 15, n)
    out = np.zeros(n, np.int32)
    arrays = [np.ascontiguousarray(a, t) for a, t in ((x, np.int64), (m, np.int32),
                                                       (s, np.int32))]
    lib.t_mbqm64(*[ctypes.c_void_p(a.ctypes.data) for a in arrays + [out]], ctypes.c_int32(n))
    oplab.assert_exact(fp.mbqm64(x, m, s).astype(np.int32), out, "mbqm64")


@pytest.mark.parametrize("small", [False, True], ids=["full", "small"])
@pytest.mark.parametrize("bias", cases.BIASES, ids=str)
def test_conv_s16(lib, bias, small):
    rng = np.random.default_rng(1)
    for index in range(len(cases.CONV_CASES)):
        for act in cases.ACTS:
            check(lib, *cases.conv_case(index, bias, act, small), rng, "fitml_conv_s16")


@pytest.mark.parametrize("small", [False, True], ids=["full", "small"])
@pytest.mark.parametrize("bias", ("int64", None), ids=str)
def test_depthwise_conv_s16(lib, bias, small):
    rng = np.random.default_rng(2)
    for index in range(len(cases.DW_CASES)):
        for act in cases.ACTS:
            check(lib, *cases.dw_case(index, bias, act, small), rng, "fitml_depthwise_conv_s16")


@pytest.mark.parametrize("small", [False, True], ids=["full", "small"])
@pytest.mark.parametrize("bias", cases.BIASES, ids=str)
def test_fully_connected_s16(lib, bias, small):
    rng = np.random.default_rng(3)
    for index in range(len(cases.FC_CASES)):
        for per_channel in (True, False):
            for act in cases.ACTS:
                check(lib, *cases.fc_case(index, bias, per_channel, act, small), rng,
                      "fitml_fully_connected_s16")


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
def test_add_sub_s16(lib, kind):
    rng = np.random.default_rng(4)
    for (sa, sb), scales in zip([((1, 5, 6, 3),) * 2, ((2, 4, 1, 3), (1, 1, 5, 3)),
                                 ((7, 6), (6,)), ((3, 1), (1, 4))],
                                [(1 / 4096, 1 / 3000, 1 / 2048), (3e-4, 1e-4, 2e-4),
                                 (1 / 4096,) * 3, (2e-5, 5e-4, 1e-3)]):
        for act in cases.ACTS:
            a = oplab.act("a", sa, "int16", scale=scales[0])
            b = oplab.act("b", sb, "int16", scale=scales[1])
            out = oplab.out_like(kind, [a, b], dict(activation=act), scale=scales[2], zp=0)
            graph = oplab.one_op(kind, [a, b], dict(activation=act), out)
            check(lib, graph, oplab.random_inputs(graph, rng), rng,
                  f"fitml_{kind.lower()}_s16")


@pytest.mark.parametrize("kind", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
def test_pool_s16(lib, kind):
    rng = np.random.default_rng(5)
    kernel = "fitml_maxpool_s16" if kind == "MAX_POOL_2D" else "fitml_avgpool_s16"
    for index in range(len(cases.POOL_CASES)):
        for act in cases.ACTS:
            graph = cases.pool_graph(kind, index, act)
            check(lib, graph, oplab.random_inputs(graph, rng), rng, kernel)


def test_mean_s16(lib):
    rng = np.random.default_rng(6)
    for axes, keep, s_out in [([1, 2], True, 1 / 3000), ([2], False, 1 / 1000),
                              ([-1, 0], False, 1 / 2000), ([3], True, 1 / 9000)]:
        graph = cases.mean_graph(axes, keep, s_out)
        check(lib, graph, oplab.random_inputs(graph, rng), rng, "fitml_mean_s16")


@pytest.mark.parametrize("case", cases.QUANTIZE_CASES, ids=lambda c: f"{c[0]}-{c[3]}-{c[4]:.3g}")
def test_quantize_s16(lib, case):
    rng = np.random.default_rng(7)
    graph = cases.quantize_graph(*case)
    inputs = oplab.random_inputs(graph, rng)
    if case[0] == "float32":       # span beyond the int16 range, and exact ties
        inputs = [np.concatenate([rng.uniform(-15, 15, 50), (np.arange(10) + 0.5) / 3000]
                                 ).astype(np.float32).reshape(1, 4, 5, 3)]
    names = {"int8": "s8", "int16": "s16", "float32": "f32"}
    src, dst = names[case[0]], names[case[3]]
    kernel = (f"fitml_quantize_{src}_{dst}" if src == "f32" else
              f"fitml_requantize_{src}" if src == dst else f"fitml_requantize_{src}_{dst}")
    check(lib, graph, inputs, rng, kernel)
