"""The 16x8 DSP kernels (runtime_c/src/dsp/fitml_*_s16.c, also linked by the M55's MVE build)
equal the numpy reference bit for bit under QEMU on Cortex-M4, M7 and M55.

Shapes are picked to reach every path of the kernels: the stack-patch conv (odd channel
counts, odd kernel widths, strides, dilation, padding), the row-span conv (depth above the
patch, C_in % 4 != 0 so clipped windows start mid-block), the per-tap conv (x dilation, groups
with an odd group size), sums longer than an exact int32 chunk (flushed into int64), depthwise
with depth multipliers 1..3 and a channel remainder, FC with tails. Each bias mode runs: int64
(one channel's bias beyond int32), int32 (TFLM's acc32 path) and none; one FC drives its sum
past int32 so acc32 must wrap and the int64 path must not. All cases of one bias mode are one
graph, so one ELF per target and mode.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import oplab
import test_ops_int16 as cases
from toolchain.backends import cparams, cruntime
from toolchain.backends.clower import CArray, TensorRef
from toolchain.ir import Graph, Op
from toolchain.ops import registry
from toolchain.ops.int16_lowering import conv_dsp_unit
from toolchain.ops.registry import Node
from toolchain.verify.executors import get_executor
from toolchain.verify.reference import run_graph

KERNELS = ("fitml_conv_s16", "fitml_depthwise_conv_s16", "fitml_fully_connected_s16")
TARGETS = ("cortex-m4", "cortex-m7", "cortex-m55")

CONV = [  # (x shape, (cout, kh, kw, cin/groups), stride, dilation, padding)
    ((1, 9, 9, 3), (7, 3, 3, 3), (1, 1), (1, 1), "SAME"),        # patch, odd C_out
    ((2, 8, 7, 5), (5, 1, 3, 5), (2, 2), (1, 1), "SAME"),        # patch, batches, strides
    ((1, 10, 9, 2), (4, 3, 3, 2), (2, 1), (2, 2), "SAME"),       # patch, dilation
    ((1, 6, 6, 8), (16, 1, 1, 8), (1, 1), (1, 1), "VALID"),      # patch, pointwise
    ((1, 7, 8, 3), (5, 9, 5, 3), (1, 2), (1, 1), "SAME"),        # rows, mid-block starts
    ((1, 6, 6, 16), (6, 3, 3, 16), (1, 1), (1, 1), "SAME"),      # rows, whole blocks
    ((1, 9, 9, 20), (3, 3, 3, 20), (1, 1), (1, 2), "SAME"),      # taps (x dilation)
    ((1, 7, 7, 6), (6, 3, 3, 3), (1, 2), (1, 1), "SAME"),        # taps, 2 groups of 3
    ((1, 5, 5, 64), (3, 3, 3, 64), (2, 1), (1, 1), "SAME"),      # rows, 576-deep sums
    ((1, 3, 3, 520), (3, 1, 1, 520), (1, 1), (1, 1), "VALID"),   # rows, one 520-long span
    ((1, 6, 9, 14), (4, 3, 3, 7), (1, 1), (1, 3), "VALID"),      # taps, groups, dilation
]
DW = [  # (x shape, (kh, kw), depth multiplier, stride, dilation, padding)
    ((1, 9, 9, 7), (3, 3), 1, (1, 1), (1, 1), "SAME"),
    ((1, 8, 9, 8), (5, 3), 1, (2, 2), (1, 1), "SAME"),
    ((2, 8, 7, 3), (3, 2), 2, (2, 1), (1, 1), "VALID"),
    ((1, 10, 10, 2), (3, 3), 3, (1, 1), (2, 2), "SAME"),
    ((1, 7, 7, 12), (3, 3), 1, (1, 1), (2, 1), "SAME"),
]
FC = [((1, 7), 5), ((2, 37), 6), ((1, 600), 5), ((3, 64), 9)]   # (x shape, outputs)


def _conv(i, bias):
    x_shape, w_shape, stride, dilation, padding = CONV[i]
    rng = np.random.default_rng([161, i, cases.BIASES.index(bias)])
    attrs = dict(padding=padding, stride=stride, dilation=dilation,
                 activation=("NONE", "RELU")[i % 2])
    return cases.weighted_case("CONV_2D", rng, x_shape, w_shape, 0, attrs, per_channel=i != 3,
                               bias=bias, small=i % 3 == 2)


def _dw(i, bias):
    x_shape, (kh, kw), dm, stride, dilation, padding = DW[i]
    rng = np.random.default_rng([162, i, cases.BIASES.index(bias)])
    attrs = dict(padding=padding, stride=stride, dilation=dilation, activation="NONE",
                 depth_multiplier=dm)
    return cases.weighted_case("DEPTHWISE_CONV_2D", rng, x_shape,
                               (1, kh, kw, x_shape[3] * dm), 3, attrs, per_channel=i != 2,
                               bias=bias if bias != "int32" else "int64", small=i == 1)


def _fc(i, bias):
    x_shape, n = FC[i]
    rng = np.random.default_rng([163, i, cases.BIASES.index(bias)])
    return cases.weighted_case("FULLY_CONNECTED", rng, x_shape, (n, x_shape[-1]), 0,
                               dict(activation="NONE", keep_num_dims=False),
                               per_channel=i % 2 == 0, bias=bias, small=i == 3)


def _fc_beyond_int32(bias):
    """FC whose first rows sum past 2^31: +-127 weights meeting +-32767 inputs of their sign."""
    rng = np.random.default_rng([164, cases.BIASES.index(bias)])
    k, n = 1000, 4
    w = rng.choice(np.int8([-127, 127]), (n, k))
    s_w = np.float32([0.01] * n)
    x = oplab.act("x", (1, k), "int16", scale=cases.S_IN)
    wt = oplab.const("w", w, scale=s_w, axis=0)
    ins = [x, wt]
    if bias is not None:
        b = rng.integers(-1000, 1000, n).astype(bias)
        ins.append(oplab.const("b", b, scale=np.float32(cases.S_IN) * s_w, axis=0))
    attrs = dict(activation="NONE", keep_num_dims=False)
    out = oplab.out_like("FULLY_CONNECTED", ins, attrs, scale=2.0, zp=0)
    xs = np.where(w[0] >= 0, 32767, -32768).astype(np.int16)
    xs[: k // 3] = np.where(w[1, : k // 3] >= 0, -32768, 32767)
    return oplab.one_op("FULLY_CONNECTED", ins, attrs, out), [xs.reshape(1, k)]


def merged(parts) -> tuple[Graph, list[np.ndarray]]:
    """One graph running every one-op (graph, inputs) side by side (tensor names prefixed)."""
    tensors, ops, ins, outs, arrays = [], [], [], [], []
    for i, (g, xs) in enumerate(parts):
        def name(n, i=i):
            return f"g{i}_{n}" if n else n
        tensors += [dataclasses.replace(t, name=name(t.name)) for t in g.tensors.values()]
        ops += [Op(op.kind, [name(n) for n in op.inputs], [name(n) for n in op.outputs],
                   op.attrs) for op in g.ops]
        ins += [name(n) for n in g.inputs]
        outs += [name(n) for n in g.outputs]
        arrays += list(xs)
    return Graph.build(tensors, ops, ins, outs).validate(), arrays


@pytest.fixture(scope="module", params=cases.BIASES, ids=str)
def suite(request):
    bias = request.param
    parts = ([_conv(i, bias) for i in range(len(CONV))] + [_dw(i, bias) for i in range(len(DW))]
             + [_fc(i, bias) for i in range(len(FC))] + [_fc_beyond_int32(bias)])
    return merged(parts)


@pytest.mark.parametrize("target", TARGETS)
def test_dsp_kernels_bit_exact(suite, target):
    graph, inputs = suite
    want = run_graph(graph, inputs)
    got = get_executor("qemu")(graph, inputs, target=target).outputs
    for name, a, b in zip(graph.outputs, want, got):
        oplab.assert_exact(a, b, f"{target} {name}")


def test_acc32_case_really_wraps():
    """The beyond-int32 FC: exact sums exceed int32, so acc32 and int64 outputs differ."""
    graph, xs = _fc_beyond_int32("int64")
    w = graph.tensors["w"].data.astype(np.int64)
    sums = w @ xs[0][0].astype(np.int64)
    assert np.abs(sums[:2]).max() >= 2**31
    out32 = run_graph(_fc_beyond_int32("int32")[0], xs)[0]
    out64 = run_graph(graph, xs)[0]
    assert not np.array_equal(out32, out64)


@pytest.mark.parametrize("variant", ["dsp", "mve"])
def test_dsp_builds_link_the_s16_kernels(variant):
    sources = cruntime.runtime_sources(KERNELS, variant=variant)
    assert [p.parent.name for p in sources] == [variant] * 3, sources
    assert cruntime.runtime_sources(KERNELS)[0].parent.name == "portable"


def _positions(unit: int) -> np.ndarray:
    """fitml_s16_pos (fitml_dsp_s16.h) for every weight of a unit."""
    j = np.arange(unit)
    full = unit // 4 * 4
    return np.where(j < full, (j & ~3) | ((j & 1) << 1) | ((j >> 1) & 1), j)


@pytest.mark.parametrize("unit", [1, 3, 4, 7, 8, 13])
def test_dsp_filter_layout_matches_the_kernels_positions(unit):
    rng = np.random.default_rng(unit)
    rows = rng.integers(-127, 128, (3, 2 * unit)).astype(np.int8)
    stored = cparams.s16_dsp_filter(rows, unit).values.reshape(3, 2, unit)
    np.testing.assert_array_equal(stored[:, :, _positions(unit)], rows.reshape(3, 2, unit))
    words = stored[:, :, : unit // 4 * 4].reshape(3, 2, -1, 4)   # SXTB16 lanes: (b0, b2)
    np.testing.assert_array_equal(words[..., [0, 2]].reshape(3, 2, -1),
                                  rows.reshape(3, 2, unit)[:, :, : unit // 4 * 4]
                                  .reshape(3, 2, -1, 4)[..., :2].reshape(3, 2, -1))


@pytest.mark.parametrize("i,unit", [(0, 27), (4, 15), (5, 48), (6, 20), (7, 3), (8, 192)])
def test_conv_units_follow_the_kernel(i, unit):
    graph, _ = _conv(i, "int64")
    node = Node.of(graph, graph.ops[0])
    assert conv_dsp_unit(node) == unit
    w = node.ins[1]
    with cparams.kernel_variant("dsp"):
        call = registry.get("CONV_2D").lower_c(node)
    assert isinstance(call.params["filter"], CArray)
    want = cparams.s16_dsp_filter(w.data.reshape(w.shape[0], -1), unit).values
    np.testing.assert_array_equal(call.params["filter"].values, want)
    assert isinstance(registry.get("CONV_2D").lower_c(node).params["filter"], TensorRef)


@pytest.fixture(scope="module")
def host_lib(tmp_path_factory):
    """The DSP-variant conv/FC sources built for the host (UBSan): without the DSP extension
    they keep the DSP filter layout in plain C (what a FITML_PORTABLE_ONLY DSP build runs)."""
    import ctypes
    out = tmp_path_factory.mktemp("cruntime16dsp")
    dsp = cruntime.runtime_dir() / "src" / "dsp"
    sources = [dsp / "fitml_conv_s16.c", dsp / "fitml_fully_connected_s16.c"]
    return ctypes.CDLL(str(cruntime.build_host_library(out, [], extra_sources=sources)))


@pytest.mark.parametrize("bias", cases.BIASES, ids=str)
def test_dsp_layout_plain_c_bit_exact(host_lib, bias):
    import test_c_int16
    rng = np.random.default_rng(165)
    parts = ([_conv(i, bias) for i in range(len(CONV))] + [_fc(i, bias) for i in range(len(FC))]
             + [_fc_beyond_int32(bias)])
    for graph, xs in parts:
        with cparams.kernel_variant("dsp"):
            want = run_graph(graph, xs)[0]
            name, got = test_c_int16.run_c(host_lib, graph, xs, rng)
        oplab.assert_exact(want, got, f"{name} {graph.ops[0].kind}")
