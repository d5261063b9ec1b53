"""DSP kernels that read int8 weights straight from flash (no pre-widened int16 layouts), bit-exact.

When flash is short the lowering gives up the pre-widened layouts (backends/clayouts.py); the
conv, depthwise and FULLY_CONNECTED kernels then read int8 filters: the FC's reordered at
compile time (cdsp.fc_int8_filter, same size), depthwise and conv in their natural order. Here
every layer is forced onto that path (cvariant.plain_layouts over all outputs) and checked
against the numpy reference under QEMU on Cortex-M4 (DSP), Cortex-M3 (portable) and
Cortex-M55 (MVE build), on the host (a DSP-lowered project built without the DSP extension),
and on the shared KWS and IC models.
"""
from __future__ import annotations

import contextlib
import shutil
import subprocess

import numpy as np
import pytest

from conftest import shared_model
from oplab import assert_exact
from dsp_cases import (ACTS, all_scratch_free, batch, conv,  # noqa: F401 (fixture)
                       depthwise, fully_connected, random_inputs, spatial)
from toolchain.api.compiler import compile_c
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph
from toolchain.lowering import cdsp
from toolchain.lowering.ccall import CArray
from toolchain.lowering.cvariant import kernel_variant, plain_layouts
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph
from toolchain.ops.registry import Node
from toolchain.verify.executors import get_executor
from toolchain.verify.baseline_inputs import lcg_inputs  # noqa: E402

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


# ---------------------------------------------------------------------- FULLY_CONNECTED

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


# ---------------------------------------------------------------------- host build

MAIN_C = """#include <stdio.h>
#include <string.h>
#include "model.h"
static uint8_t arena[MODEL_ARENA_SIZE] __attribute__((aligned(16)));
static const int in_bytes[] = {%(ins)s};
static const int out_bytes[] = {%(outs)s};
int main(void) {
    for (int i = 0; i < MODEL_NUM_INPUTS; i++) {
        if (fread(model_input(arena, i), 1, (size_t)in_bytes[i], stdin) != (size_t)in_bytes[i])
            return 2;
    }
    if (model_invoke(arena) != 0) return 1;
    for (int i = 0; i < MODEL_NUM_OUTPUTS; i++)
        fwrite(model_output(arena, i), 1, (size_t)out_bytes[i], stdout);
    return 0;
}
"""


@pytest.mark.parametrize("layouts", [False, True], ids=["int8", "layouts"])
def test_dsp_lowered_project_runs_on_a_host_without_dsp(tmp_path, layouts):
    """A Cortex-M4 project built with the host gcc, its layers on int8 weights (reordered FC
    filters) or on the pre-widened layouts that stand alone (no int8 copy beside them): the
    DSP sources fall back to plain C over the same arrays, bit-exact."""
    graphs = fc_cases()[:12] + dw_cases()[:8] + conv_cases()[:6]
    graph = batch(graphs)
    inputs = random_inputs(graph, np.random.default_rng(24))
    with contextlib.nullcontext() if layouts else int8_only(graph):
        compile_c(graph, "cortex-m4", tmp_path / "proj")
    if layouts:
        text = (tmp_path / "proj" / "model.c").read_text()
        assert text.count(".filter = NULL") >= 3, "no conv or FC layout standing alone"
    sizes = lambda names: ", ".join(str(graph.tensors[n].nbytes) for n in names)  # noqa: E731
    (tmp_path / "app.c").write_text(MAIN_C % dict(ins=sizes(graph.inputs),
                                                 outs=sizes(graph.outputs)))
    (tmp_path / "Makefile").write_text(
        "include proj/model.mk\n"
        "app: app.c $(MODEL_SRCS)\n"
        "\tgcc -std=c99 -O1 -Wall -Wextra -Werror -pedantic -fsanitize=address,undefined "
        "-fno-sanitize-recover=all $(MODEL_CFLAGS) $^ -o $@ -lm\n")
    proc = subprocess.run(["make", "-s", "app"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    blob = b"".join(np.ascontiguousarray(x).tobytes() for x in inputs)
    run = subprocess.run([str(tmp_path / "app")], input=blob, capture_output=True)
    assert run.returncode == 0, run.stderr
    got, offset = [], 0
    for name in graph.outputs:
        t = graph.tensors[name]
        got.append(np.frombuffer(run.stdout[offset:offset + t.nbytes], np.int8).reshape(t.shape))
        offset += t.nbytes
    for i, (w, g) in enumerate(zip(run_graph(graph, inputs), got)):
        assert_exact(w, g, f"host build, case {i}")


# ---------------------------------------------------------------------- models



# Instructions of one inference with int8 weights only on Cortex-M4 must stay below these
# (issue 14: KWS <= 0.6x TFLM + CMSIS-NN's 7.70 M; IC below its TFLM + CMSIS-NN 29.9 M).
MODELS = {"kws": ("mlperf_tiny/kws/kws_ref_model_int8.tflite", 4_600_000),
          "ic": ("mlperf_tiny/ic/pretrainedResnet_quant.tflite", 15_000_000)}


@needs_arm
@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_int8_weights_only_bit_exact_on_m4(name):
    path, budget = MODELS[name]
    graph = load_tflite(shared_model(path))
    inputs = lcg_inputs(graph)
    with int8_only(graph):
        run = get_executor("qemu")(graph, inputs, target="cortex-m4")
    assert_exact(run_graph(graph, inputs)[0], run.outputs[0], f"{name} int8 weights only")
    assert run.stats["instructions"] <= budget, run.stats["instructions"]
