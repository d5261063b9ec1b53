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


import numpy as np
import pytest

from int16_dsp_cases import (CONV, DW, EDGE, FC, MIXED, MIXED_KINDS, TARGETS, conv_case, dw_case,
                             fc_beyond_int32, fc_case, merged, mixed_case)
import oplab
import int16_cases as cases
from toolchain.lowering import cvariant
from toolchain.ops import registry
from toolchain.ops.registry import Node
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph


@pytest.fixture(scope="module", params=cases.BIASES, ids=str)
def suite(request):
    bias = request.param
    parts = ([conv_case(i, bias) for i in range(len(CONV))]
             + [dw_case(i, bias) for i in range(len(DW))]
             + [fc_case(i, bias) for i in range(len(FC))] + [fc_beyond_int32(bias)]
             + ([mixed_case(kind) for kind in MIXED_KINDS] if bias == "int64" else []))
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
    graph, xs = mixed_case(kind)
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
