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

The fast requantization records (int16_lowering.fast_records, fitml_dsp_s16.h fitml_s16_out):
the int64 suite adds MIXED conv / depthwise / FC layers whose channels sit next to each other on
both sides of every condition (|bias| + 32768 sum|w| at 2^31 - 1 and 2^31, shifts -1, -31 and
0, capped and minimal reduced multipliers, int64 biases), with inputs that reach the bound; and
a host test sweeps fitml_s16_out against fitml_requant_s16 on edge values of every shift.
"""
from __future__ import annotations

import ctypes
import dataclasses

import numpy as np
import pytest

import oplab
import test_ops_int16 as cases
from toolchain.lowering import cdsp, cvariant
from toolchain.backends import cruntime
from toolchain.lowering.ccall import CArray, TensorRef
from toolchain.ir import Graph, Op
from toolchain.ops import registry
from toolchain.ops.int16_lowering import conv_dsp_unit, fast_records
from toolchain.ops.registry import Node
from toolchain.arith import fixedpoint as fp
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

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


EDGE = 2**31 - 1     # |bias| + 32768 * sum|w| at most this: the 32-bit path
MIXED = [  # (real multiplier, bias) per channel; "+edge" = EDGE - 32768 sum|w|, "+over" one more
    (0.3, 0),                            # shift -1: E = 0
    (1.3 * 2**-17, "+edge"), (1.3 * 2**-17, "+over"),
    (1.7 * 2**-17, "-edge"), (1.7 * 2**-17, "-over"),
    (0.75 * 2**-31, "+edge"),            # shift -31: E = 30
    (0.6, 0),                            # shift 0: the 64-bit path
    ((1 - 2**-22) * 2**-10, 777),        # multiplier >= 0x7FFF0000: m' capped at 0x7FFF
    (2**-11, -555),                      # multiplier 2^30: m' = 2^14
    (1.5 * 2**-20, 2**40), (2**-24, -2**35),   # int64 biases
    (0.125, 12345),                      # all-zero weights
]


def _mixed_bias(rows: np.ndarray) -> np.ndarray:
    bound = np.abs(rows.astype(np.int64)).sum(axis=1) * 32768
    out = []
    for (_, b), lim in zip(MIXED, bound):
        if isinstance(b, str):
            b = (EDGE - lim + (b[1:] == "over")) * (1 if b[0] == "+" else -1)
        out.append(b)
    return np.array(out, np.int64)


def _mixed(kind: str):
    """A layer with one channel per MIXED entry (output scale = input scale, so the filter
    scales are the multipliers); channels 1-5 share one filter row >= 0, and the inputs drive the
    sums to +-32768 sum|w| on the bias' side (exactly for a negative bias) and opposite."""
    rng = np.random.default_rng([166, ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
                                 .index(kind)])
    n = len(MIXED)
    k = 9 if kind == "DEPTHWISE_CONV_2D" else 64
    rows = rng.integers(-127, 128, (n, k)).astype(np.int8)
    rows[1:6] = np.abs(rows[1])         # no negative weight: -32768 sum|w| is reachable
    rows[-1] = 0
    bias = _mixed_bias(rows)
    s_w = np.float32([m for m, _ in MIXED])
    toward = np.where(rows >= 0, 32768, -32768) * np.where(bias[:, None] < 0, -1, 1)
    down, up = toward, -toward          # (clipped to int16 below) sums of bias' sign, opposite
    wild = rng.integers(-32768, 32768, (2, n, k))
    if kind == "DEPTHWISE_CONV_2D":     # 3x3 VALID on 3x3: one pixel per batch, own channel
        wshape, axis, xshape = (1, 3, 3, n), 3, (4, 3, 3, n)
        w = rows.T.reshape(wshape)
        xs = np.stack([down.T, up.T, *wild.transpose(0, 2, 1)]).reshape(xshape)
        attrs = dict(padding="VALID", stride=(1, 1), dilation=(1, 1), activation="NONE",
                     depth_multiplier=1)
    else:                               # one input row per batch / pixel: channel 1's
        wshape, axis = ((n, k), 0) if kind == "FULLY_CONNECTED" else ((n, 1, 1, k), 0)
        xshape = (4, k) if kind == "FULLY_CONNECTED" else (1, 2, 2, k)
        w = rows.reshape(wshape)
        xs = np.stack([down[3], down[1], wild[0, 0], wild[1, 0]]).reshape(xshape)
        attrs = (dict(activation="NONE", keep_num_dims=False) if kind == "FULLY_CONNECTED" else
                 dict(padding="VALID", stride=(1, 1), dilation=(1, 1), activation="NONE"))
    x = oplab.act("x", xshape, "int16", scale=cases.S_IN)
    ins = [x, oplab.const("w", w, scale=s_w, axis=axis),
           oplab.const("b", bias, scale=np.float32(cases.S_IN) * s_w, axis=0)]
    out = oplab.out_like(kind, ins, attrs, scale=cases.S_IN, zp=0)
    return oplab.one_op(kind, ins, attrs, out), [np.clip(xs, -32768, 32767).astype(np.int16)]


MIXED_KINDS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


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
             + [_fc(i, bias) for i in range(len(FC))] + [_fc_beyond_int32(bias)]
             + ([_mixed(kind) for kind in MIXED_KINDS] if bias == "int64" else []))
    return merged(parts)


@pytest.mark.parametrize("target", TARGETS)
def test_dsp_kernels_bit_exact(suite, target):
    graph, inputs = suite
    want = run_graph(graph, inputs)
    got = get_executor("qemu")(graph, inputs, target=target).outputs
    for name, a, b in zip(graph.outputs, want, got):
        oplab.assert_exact(a, b, f"{target} {name}")


@pytest.mark.parametrize("kind", MIXED_KINDS)
def test_mixed_channels_take_both_paths(kind):
    """The MIXED layers: which channels get a 32-bit record, and inputs that reach the edge."""
    graph, xs = _mixed(kind)
    node = Node.of(graph, graph.ops[0])
    with cvariant.kernel_variant("dsp"):
        bias = registry.get(kind).lower_c(node).params["bias"].values
    n = len(MIXED)
    e = bias[n:].reshape(n, 2)[:, 1] >> 32
    np.testing.assert_array_equal(e, [0, 15, -1, 15, -1, 30, -1, 9, 9, -1, -1, 1])
    w = graph.tensors["w"].data.astype(np.int64)
    rows = w.reshape(-1, n).T if kind == "DEPTHWISE_CONV_2D" else w.reshape(n, -1)
    x = xs[0].astype(np.int64)
    sums = (np.einsum("bhwc,hwc->bc", x, w[0]) if kind == "DEPTHWISE_CONV_2D"
            else x.reshape(-1, rows.shape[1]) @ rows.T)
    y = sums + bias[:n]
    assert y[:, 3].min() == -EDGE and y[:, 4].min() == -EDGE - 1     # both sides of the edge
    assert y[:, 1].max() > EDGE - 2**21 and y[:, 2].max() > EDGE - 2**21
    with cvariant.kernel_variant("portable"):
        assert registry.get(kind).lower_c(node).params["bias"].values.size == n


SHIM = """#include "fitml/fitml.h"
#include "fitml/fitml_support.h"
#include "fitml_dsp_s16.h"
void t_s16_out(const int64_t *bias, const int32_t *m, const int32_t *s, int32_t channels,
               int32_t acc32, const int32_t *oc, const int64_t *sum, int32_t lo, int32_t hi,
               int16_t *fast, int16_t *ref, int32_t n);
void t_s16_out(const int64_t *bias, const int32_t *m, const int32_t *s, int32_t channels,
               int32_t acc32, const int32_t *oc, const int64_t *sum, int32_t lo, int32_t hi,
               int16_t *fast, int16_t *ref, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t c = oc[i];
        fast[i] = fitml_s16_out(bias, channels, c, sum[i], lo, hi);
        ref[i] = fitml_requant_s16(fitml_wrap_add64(sum[i], bias[c]), acc32, m[c], s[c], lo,
                                   hi);
    }
}
"""


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
    stored = cdsp.s16_dsp_filter(rows, unit).values.reshape(3, 2, unit)
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
    with cvariant.kernel_variant("dsp"):
        call = registry.get("CONV_2D").lower_c(node)
    assert isinstance(call.params["filter"], CArray)
    want = cdsp.s16_dsp_filter(w.data.reshape(w.shape[0], -1), unit).values
    np.testing.assert_array_equal(call.params["filter"].values, want)
    assert isinstance(registry.get("CONV_2D").lower_c(node).params["filter"], TensorRef)


@pytest.fixture(scope="module")
def host_lib(tmp_path_factory):
    """The DSP-variant conv/FC sources built for the host (UBSan): without the DSP extension
    they keep the DSP filter layout in plain C (what a FITML_PORTABLE_ONLY DSP build runs);
    and t_s16_out, fitml_s16_out beside fitml_requant_s16."""
    out = tmp_path_factory.mktemp("cruntime16dsp")
    dsp = cruntime.runtime_dir() / "src" / "dsp"
    (out / "shim.c").write_text(SHIM)
    sources = [dsp / "fitml_conv_s16.c", dsp / "fitml_fully_connected_s16.c", out / "shim.c"]
    return ctypes.CDLL(str(cruntime.build_host_library(out, [], extra_sources=sources,
                                                       cflags=[f"-I{dsp}"])))


@pytest.mark.parametrize("bias", cases.BIASES, ids=str)
def test_dsp_layout_plain_c_bit_exact(host_lib, bias):
    import test_c_int16
    rng = np.random.default_rng(165)
    parts = ([_conv(i, bias) for i in range(len(CONV))] + [_fc(i, bias) for i in range(len(FC))]
             + [_fc_beyond_int32(bias)]
             + ([_mixed(k) for k in MIXED_KINDS if k != "DEPTHWISE_CONV_2D"]
                if bias == "int64" else []))
    for graph, xs in parts:
        with cvariant.kernel_variant("dsp"):
            want = run_graph(graph, xs)[0]
            name, got = test_c_int16.run_c(host_lib, graph, xs, rng)
        oplab.assert_exact(want, got, f"{name} {graph.ops[0].kind}")


def _sweep_channels(rng):
    """(rows, bias, m, s) of channels crossing every shift with extreme multipliers, sum|w|
    from 0 to the full row, and biases at, just past and far past the 32-bit edge."""
    mults = [0, 1, 2**30, 2**30 + 2**15 - 1, 2**30 + 2**15, 0x7FFEFFFF, 0x7FFF0000,
             0x7FFF7FFF, 2**31 - 1, *rng.integers(2**30, 2**31, 3)]
    grid = [(m, s, j) for m in mults for s in range(-31, 15) for j in range(8)]
    m, s, j = (np.array(v, np.int64) for v in zip(*grid))
    rows = rng.integers(-127, 128, (len(grid), 40)).astype(np.int8)
    rows[j == 0] = 0
    rows[j == 1] = np.int8(-127)
    rows[j == 2, 1:] = 0
    bound = np.abs(rows.astype(np.int64)).sum(axis=1) * 32768
    sign = np.where(j % 2 == 0, 1, -1)
    bias = np.select([j < 3, j < 5, j < 7],
                     [rng.integers(-1000, 1000, len(grid)), sign * (EDGE - bound),
                      sign * (EDGE - bound + 1)], sign * rng.integers(2**31, 2**45, len(grid)))
    return rows, bias.astype(np.int64), m, s


def _sweep_sums(rng, bound, bias, m, s):
    """Per channel: 0, +-1, the bound and its neighbours, random values, and the sums nearest
    to every rounding step of 9 outputs around 0 and around the largest one (all in bound)."""
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    t = 15 - s
    fixed = np.stack([0 * bound, 1 + 0 * bound, -1 + 0 * bound, bound, -bound, bound - 1,
                      1 - bound], axis=1)
    picks = [fixed, rng.integers(-bound, bound + 1, (8, bound.size)).T]
    top = np.where(reduced > 0, ((EDGE * reduced) >> np.minimum(t, 62)), 0)
    for r0 in (0, 1):
        for k in range(-4, 5):
            r = (k + np.where(r0, top, 0)) * np.where(r0 & (k < 0), -1, 1)
            y = ((r << np.minimum(t, 62)) - (np.int64(1) << (t - 1))) // np.maximum(reduced, 1)
            for d in (-1, 0, 1):
                picks.append(np.clip(y + d - bias, -bound, bound)[:, None])
    return np.concatenate(picks, axis=1)


@pytest.mark.parametrize("clamp", [(-32768, 32767), (-300, 4000)], ids=["full", "narrow"])
@pytest.mark.parametrize("wide", [True, False], ids=["int64", "acc32"])
def test_fast_requant_sweep_host(host_lib, clamp, wide):
    """fitml_s16_out (records) == fitml_requant_s16 == the numpy reference for every shift,
    extreme multipliers, biases on both sides of the 32-bit edge and sums at the bound and
    at rounding steps; with the int64 accumulator a good share of channels takes the 32-bit
    path and the rest the 64-bit one, with acc32 every channel takes the int32 MBQM."""
    rng = np.random.default_rng(167)
    rows, bias, m, s = _sweep_channels(rng)
    recs = fast_records(rows, bias, m, s, wide)
    e = recs[:, 1] >> 32
    bound = np.abs(rows.astype(np.int64)).sum(axis=1) * 32768
    if wide:
        fast = (s <= -1) & (bound + np.abs(bias) <= EDGE)
        np.testing.assert_array_equal(e, np.where(fast, -1 - s, -1))
        assert fast.sum() > 1000 and (~fast).sum() > 1000
    else:
        np.testing.assert_array_equal(e, np.full(len(bias), -2))
    sums = _sweep_sums(rng, bound, bias, m, s)
    oc = np.repeat(np.arange(len(bias), dtype=np.int32), sums.shape[1])
    sums = np.ascontiguousarray(sums.ravel(), np.int64)
    table = np.ascontiguousarray(np.concatenate([bias, recs.ravel()]), np.int64)
    m32, s32 = np.ascontiguousarray(m, np.int32), np.ascontiguousarray(s, np.int32)
    got, ref = np.zeros(sums.size, np.int16), np.zeros(sums.size, np.int16)
    ptr = [ctypes.c_void_p(a.ctypes.data) for a in (table, m32, s32)]
    host_lib.t_s16_out(*ptr, ctypes.c_int32(len(bias)), ctypes.c_int32(0 if wide else 1),
                       ctypes.c_void_p(oc.ctypes.data),
                       ctypes.c_void_p(sums.ctypes.data), ctypes.c_int32(clamp[0]),
                       ctypes.c_int32(clamp[1]), ctypes.c_void_p(got.ctypes.data),
                       ctypes.c_void_p(ref.ctypes.data), ctypes.c_int32(sums.size))
    with np.errstate(over="ignore"):
        y = (sums.astype(np.uint64) + bias[oc].astype(np.uint64)).astype(np.int64)
    v = fp.mbqm64(y, m[oc], s[oc]) if wide else fp.mbqm(fp.wrap32(y), m[oc], s[oc])
    want = np.clip(v, *clamp).astype(np.int16)
    oplab.assert_exact(want, ref, "fitml_requant_s16")
    oplab.assert_exact(want, got, "fitml_s16_out")
    assert len(np.unique(want)) > 100
