"""The 16x8 DSP kernels' layouts and fast requantization on the host: the acc32 case really wraps,
DSP / MVE builds link the s16 kernels, the filter layout matches the kernels' positions, conv
units follow the kernel, the DSP layout in plain C is bit-exact, and fitml_s16_out equals
fitml_requant_s16 on edge values of every shift (sweeps)."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

from int16_dsp_cases import (CONV, EDGE, FC, KERNELS, MIXED_KINDS, conv_case, fc_beyond_int32,
                             fc_case, mixed_case)
import oplab
import int16_cases as cases
from toolchain.lowering import cdsp, cvariant
from toolchain.backends import cruntime
from toolchain.lowering.ccall import CArray, TensorRef
from toolchain.ops import registry
from toolchain.ops.int16_lowering import conv_dsp_unit, fast_records
from toolchain.ops.registry import Node
from toolchain.arith import fixedpoint as fp
from toolchain.ops.interpreter import run_graph


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
    graph, xs = fc_beyond_int32("int64")
    w = graph.tensors["w"].data.astype(np.int64)
    sums = w @ xs[0][0].astype(np.int64)
    assert np.abs(sums[:2]).max() >= 2**31
    out32 = run_graph(fc_beyond_int32("int32")[0], xs)[0]
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
    graph, _ = conv_case(i, "int64")
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
    parts = ([conv_case(i, bias) for i in range(len(CONV))]
             + [fc_case(i, bias) for i in range(len(FC))]
             + [fc_beyond_int32(bias)]
             + ([mixed_case(k) for k in MIXED_KINDS if k != "DEPTHWISE_CONV_2D"]
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
