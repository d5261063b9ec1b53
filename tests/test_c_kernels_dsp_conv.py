"""The Cortex-M DSP conv and depthwise kernels (runtime_c/src/dsp) bit-exact to the numpy
reference under QEMU on cortex-m4 (DSP), cortex-m3 (portable) and cortex-m55 (MVE): the cases
reach every DSP path (int8 and int16 conv, depthwise 4-channel pass) and what must fall back
(grouped convs, other depthwise shapes, clamps inside int8, requantization that cannot be
proven); the scratch-free conv paths and residual ADDs fused into convs."""
from __future__ import annotations


import numpy as np
import pytest

from dsp_cases import all_scratch_free  # noqa: F401 (fixture)
from dsp_cases import (batch, check_on_cores, conv, conv_cases, depthwise_cases, lowered,
                       path_of, random_inputs)
from oplab import assert_exact
from toolchain.ir import Graph
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph


# ---------------------------------------------------------------------- convolution

def test_conv_cases_reach_every_path():
    paths = [path_of(g) for g in conv_cases()]
    assert {"int16", "fast", "exact"} <= set(paths), paths


def test_conv_bit_exact_dsp_and_portable():
    check_on_cores(conv_cases(), 11, "conv")


# ---------------------------------------------------------------------- depthwise

def test_depthwise_cases_reach_every_path():
    cases = depthwise_cases()
    paths = [path_of(g) for g in cases if lowered(g).kernel == "fitml_depthwise_conv_s8"]
    assert set(paths) == {"exact"}, paths   # no layout: the DSP kernel reads the int8 filter
    kernels = {lowered(g).kernel for g in cases if g.tensors["x"].shape[3] == 1}
    assert kernels == {"fitml_conv_s8"}, kernels


def test_depthwise_bit_exact_dsp_and_portable():
    check_on_cores(depthwise_cases(), 12, "depthwise")


def noscratch_cases() -> list[Graph]:
    """conv_cases plus shapes aimed at the DSP scratch-free paths: pixel pairs (VALID), padded
    borders, C_in % 4 tails, odd C_out, row dilation (DSP) and column dilation (portable)."""
    rng = np.random.default_rng(905)
    return conv_cases() + [
        conv(rng, (1, 12, 10, 1), 8, (5, 4), stride=(2, 2)),         # micro_speech-like stem
        conv(rng, (1, 6, 9, 5), 3, (3, 3), pad="VALID", act="NONE"),
        conv(rng, (1, 7, 8, 6), 5, (3, 2), dil=(2, 1), act="RELU6"),
        conv(rng, (1, 7, 8, 4), 4, (3, 3), dil=(1, 2)),              # dilated columns: portable
        conv(rng, (1, 9, 11, 7), 7, (2, 3), stride=(3, 3), pad="VALID"),
        conv(rng, (2, 5, 7, 16), 9, (1, 1), pad="VALID", act="NONE"),
    ]


def noscratch_path(graph: Graph) -> str:
    """Which way the DSP scratch-free conv takes a case (mirrors fitml_dsp_direct.h)."""
    op, x, w = graph.ops[0], graph.tensors["x"], graph.tensors["w"]
    if w.shape[3] != x.shape[3] or op.attrs["dilation"][1] != 1:
        return "portable"
    if op.attrs["padding"] == "VALID" and graph.tensors[op.outputs[0]].shape[2] >= 2:
        return "pairs"
    return "borders" if w.shape[2] > 1 and op.attrs["padding"] == "SAME" else "single"


def test_noscratch_cases_reach_every_path():
    cases = noscratch_cases()
    paths = [noscratch_path(g) for g in cases]
    assert {"portable", "pairs", "borders"} <= set(paths), paths
    dsp = [g for g, p in zip(cases, paths) if p != "portable"]
    assert any(g.tensors["w"].shape[0] % 2 for g in dsp)            # odd C_out
    assert any(g.tensors["x"].shape[3] % 4 for g in dsp)            # C_in tail
    assert any(g.ops[0].attrs["dilation"][0] > 1 for g in dsp)      # dilated rows


def test_noscratch_conv_bit_exact_dsp_and_portable(all_scratch_free):
    from toolchain.backends.c import lower
    cases = noscratch_cases()
    for start in range(0, len(cases), 24):
        names = [c.kernel for c in lower(batch(cases[start:start + 24]), variant="dsp").calls]
        assert names.count("fitml_conv_s8_noscratch") >= len(names) - 2, names
    check_on_cores(cases, 15, "scratch-free conv")
    graph = batch(cases[:24])
    inputs = random_inputs(graph, np.random.default_rng(16))
    got = get_executor("host")(graph, inputs).outputs
    for i, (w, g) in enumerate(zip(run_graph(graph, inputs), got)):
        assert_exact(w, g, f"scratch-free conv on host: case {i}")


@pytest.mark.parametrize("seed", range(2))
def test_fused_conv_add_bit_exact_dsp_and_portable(seed):
    """Residual ADDs fused into their convs (written over the residual), `--memory small`."""
    from test_memory_bounds import residual_net
    from toolchain.backends.c import lower
    from toolchain.backends.cmemory import scratch_free
    graph = residual_net(np.random.default_rng([7, seed]))
    assert "fitml_conv_add_s8" in {c.kernel for c in lower(graph, scratch_free=True).calls}
    inputs = random_inputs(graph, np.random.default_rng(seed))
    want = run_graph(graph, inputs)
    with scratch_free(True):
        for core in ("cortex-m4", "cortex-m3"):
            got = get_executor("qemu")(graph, inputs, target=core).outputs
            assert_exact(want[0], got[0], f"fused conv+ADD seed {seed} on {core}")
