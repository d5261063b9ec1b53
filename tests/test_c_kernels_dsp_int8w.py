"""DSP kernels that read int8 weights straight from flash (no pre-widened int16 layouts),
bit-exact.

When flash is short the lowering gives up the pre-widened layouts (backends/clayouts.py); the
conv, depthwise and FULLY_CONNECTED kernels then read int8 filters: the FC's reordered at
compile time (cdsp.fc_int8_filter, same size), depthwise and conv in their natural order. Here
every layer is forced onto that path (tests/dsp_int8w.py) and checked against the numpy
reference under QEMU on Cortex-M4 (DSP), Cortex-M3 (portable) and Cortex-M55 (MVE build); a DSP
conv's layout stands alone. Whole builds: tests/test_c_kernels_dsp_int8w_builds.py."""
from __future__ import annotations

import numpy as np

from dsp_cases import all_scratch_free, batch, conv  # noqa: F401 (fixture)
from toolchain.lowering import cdsp
from toolchain.lowering.ccall import CArray
from toolchain.lowering.cvariant import kernel_variant
from toolchain.ops import registry
from toolchain.ops.registry import Node
from dsp_int8w import check_int8, conv_cases, dw_cases, fc_cases, lowered_int8, needs_arm


# ---------------------------------------------------------------------- FULLY_CONNECTED

def test_fc_filter_is_the_int8_weights_reordered():
    for graph in fc_cases():
        w = graph.tensors["w"].data
        call = lowered_int8(graph)
        assert call.params["filter_dsp"] == "NULL"
        stored = call.params["filter"]
        assert isinstance(stored, CArray) and stored.values.dtype == np.int8
        assert stored.values.size == w.size                      # no flash cost
    portable = registry.get("FULLY_CONNECTED").lower_c(Node.of(graph, graph.ops[0]))
    assert not isinstance(portable.params["filter"], CArray)      # portable: natural order


def test_fc_reordered_pairs_decode():
    """Pair words hold (256 A + B + 128) int16 lanes; a quad's words interleave its pairs."""
    rng = np.random.default_rng(3)
    rows = rng.integers(-128, 128, (4, 8)).astype(np.int8)
    stored = cdsp.fc_int8_filter(rows).values
    lanes = stored.view(np.int16).astype(np.int64).reshape(2, 2, 2, 2)   # [block][pair][w][k]
    for j in range(2):
        for pair in range(2):
            a, b = rows[2 * pair].astype(np.int64), rows[2 * pair + 1].astype(np.int64)
            for word in range(2):
                ks = [4 * j + word, 4 * j + word + 2]
                np.testing.assert_array_equal(lanes[j, pair, word], 256 * a[ks] + b[ks] + 128)


@needs_arm
def test_fc_int8_bit_exact_on_cores():
    check_int8(fc_cases(), 21, "int8 fully connected")


# ---------------------------------------------------------------------- depthwise

def test_depthwise_reads_the_plain_filter():
    for graph in dw_cases():
        call = lowered_int8(graph)
        if call.kernel == "fitml_depthwise_conv_s8":
            assert call.params["filter_dsp"] == "NULL"


@needs_arm
def test_depthwise_int8_bit_exact_on_cores():
    check_int8(dw_cases(), 22, "int8 depthwise")


@needs_arm
def test_depthwise_int8_scratch_free_bit_exact_on_cores(all_scratch_free):
    """`--memory small`: the scratch-free twin builds its blocks on the stack, per 4 channels."""
    from toolchain.backends.c import lower
    cases = dw_cases()
    names = [c.kernel for c in lower(batch(cases[:24]), variant="dsp").calls]
    assert names.count("fitml_depthwise_conv_s8_noscratch") >= 20, names
    check_int8(cases, 25, "scratch-free int8 depthwise")


# ---------------------------------------------------------------------- convolution

@needs_arm
def test_conv_int8_bit_exact_on_cores():
    check_int8(conv_cases(), 23, "int8 conv")


# ---------------------------------------------------------------------- layouts

def test_conv_layout_stands_alone_in_dsp_builds():
    """With its pre-widened layout a DSP conv carries no int8 filter (flash); the scratch-free
    twin takes it back; MVE builds (whose conv reads the int8 filter) keep it."""
    from toolchain.backends.cmemory import without_scratch
    graph = conv(np.random.default_rng(5), (1, 5, 6, 64), 64, (1, 1), act="NONE")
    node = Node.of(graph, graph.ops[0])
    with kernel_variant("dsp"):
        call = registry.get("CONV_2D").lower_c(node)
    assert isinstance(call.params["filter_dsp"], CArray) and call.params["filter"] == "NULL"
    twin = without_scratch(call)
    assert twin.params["filter"] != "NULL" and twin.params["filter_dsp"] == "NULL"
    with kernel_variant("mve"):
        assert registry.get("CONV_2D").lower_c(node).params["filter"] != "NULL"
