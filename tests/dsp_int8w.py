"""DSP kernels on int8 weights (no pre-widened int16 layouts): lowering every weighted op of a
graph without its layout (cvariant.plain_layouts), running batches of one-op graphs under QEMU
against the reference, and the seeded FULLY_CONNECTED, depthwise and conv cases
(tests/test_c_kernels_dsp_int8w*.py, tests/test_c_kernels_dsp_act.py)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from oplab import assert_exact
from dsp_cases import (ACTS, batch, conv, depthwise, fully_connected, random_inputs,
                       spatial)
from toolchain.ir import Graph
from toolchain.lowering.cvariant import kernel_variant, plain_layouts
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph
from toolchain.ops.registry import Node
from toolchain.verify.executors import get_executor


CORES = ["cortex-m4", "cortex-m3", "cortex-m55"]
needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="Cortex-M toolchain or qemu-system-arm missing: run ./setup.sh")


WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def int8_only(graph: Graph):
    """Lower the weighted ops of the graph without pre-widened weight layouts (the ADD / SUB
    and activation tables, which copy no weights, stay)."""
    return plain_layouts([name for op in graph.ops if op.kind in WEIGHTED
                          for name in op.outputs])


def lowered_int8(graph: Graph):
    with kernel_variant("dsp"), int8_only(graph):
        return registry.get(graph.ops[0].kind).lower_c(Node.of(graph, graph.ops[0]))


def check_int8(graphs: list[Graph], seed: int, label: str, cores=CORES) -> None:
    for start in range(0, len(graphs), 24):
        graph = batch(graphs[start:start + 24])
        inputs = random_inputs(graph, np.random.default_rng(seed + start))
        want = run_graph(graph, inputs)
        with int8_only(graph):
            for core in cores:
                got = get_executor("qemu")(graph, inputs, target=core).outputs
                for i, (w, g) in enumerate(zip(want, got)):
                    assert_exact(w, g, f"{label} on {core}: case {start + i}")


def fc_cases() -> list[Graph]:
    """Rows in quads, a pair and a single row (N % 4 = 0..3), K % 4 = 0..3, batches, clamps,
    per-tensor and per-channel, the exact fallbacks (huge bias, multiplier >= 1)."""
    rng = np.random.default_rng(911)
    cases = [fully_connected(rng, 1, 640, 128, act="RELU"), fully_connected(rng, 1, 8, 128),
             fully_connected(rng, 1, 64, 12), fully_connected(rng, 3, 37, 10),
             fully_connected(rng, 2, 5, 3, act="RELU6"), fully_connected(rng, 1, 1, 1),
             fully_connected(rng, 1, 16, 8, huge_bias=True),
             fully_connected(rng, 1, 24, 6, per_channel=False),
             fully_connected(rng, 1, 12, 4, s_out_div=1e6),
             fully_connected(rng, 1, 4000, 4, per_channel=False),
             fully_connected(rng, 2, 256, 2, per_channel=False, dead=True)]
    for i in range(20):
        n, k = int(rng.integers(1, 24)), int(rng.integers(1, 200))
        cases.append(fully_connected(rng, int(rng.integers(1, 3)), k, n, act=ACTS[i % 4],
                                     per_channel=i % 3 == 0))
    return cases


def dw_cases() -> list[Graph]:
    """3x3 depthwise on the DSP int8 path (strides 1-3, padding, C % 32 chunks, one output
    column or row) and shapes that take the portable kernel."""
    rng = np.random.default_rng(912)
    cases = [depthwise(rng, (1, 25, 5, 64)), depthwise(rng, (1, 12, 12, 8), stride=(2, 2)),
             depthwise(rng, (1, 3, 3, 256), act="NONE"), depthwise(rng, (1, 1, 1, 4)),
             depthwise(rng, (1, 7, 1, 40), stride=(1, 1)), depthwise(rng, (2, 5, 4, 36)),
             depthwise(rng, (1, 9, 8, 12), stride=(3, 2), pad="VALID"),
             depthwise(rng, (1, 6, 6, 8), per_channel=False, bias=False),
             depthwise(rng, (1, 4, 4, 8), huge_bias=True), depthwise(rng, (1, 4, 5, 8), dead=True),
             depthwise(rng, (1, 5, 5, 8), act="RELU6"), depthwise(rng, (1, 4, 4, 6)),
             depthwise(rng, (1, 5, 5, 4), dm=2)]
    for i in range(20):
        h, w = (int(v) for v in rng.integers(1, 12, 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        pad = "VALID" if h >= 3 and w >= 3 and i % 4 == 3 else "SAME"
        cases.append(depthwise(rng, (1, h, w, 4 * int(rng.integers(1, 12))), stride=stride,
                               pad=pad, act=ACTS[i % 2], per_channel=i % 5 != 4))
    return cases


def conv_cases() -> list[Graph]:
    """im2col conv on the int8 path: depths not a multiple of 4, 1x1, partial pixel groups."""
    rng = np.random.default_rng(913)
    cases = [conv(rng, (1, 5, 6, 64), 64, (1, 1), act="NONE"), conv(rng, (1, 8, 8, 3), 8, (3, 3)),
             conv(rng, (1, 9, 7, 3), 8, (3, 3), stride=(2, 2)),
             conv(rng, (1, 11, 6, 1), 12, (5, 4), stride=(2, 2)),
             conv(rng, (1, 3, 3, 128), 12, (1, 1), act="NONE"),
             conv(rng, (1, 7, 5, 16), 16, (3, 3), act="RELU6"),
             conv(rng, (1, 5, 5, 6), 5, (3, 3), per_channel=False, bias=False)]
    for i in range(20):
        (h, w), k, stride, dil, pad = spatial(rng)
        cin = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 12, 16]))
        cout = int(rng.choice([1, 3, 4, 5, 8, 12, 16]))
        cases.append(conv(rng, (1, h, w, cin), cout, k, stride, dil, pad, act=ACTS[i % 4],
                          per_channel=i % 5 != 1, bias=i % 3 != 2))
    return cases
