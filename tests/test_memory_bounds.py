"""Peak arenas at the layer-by-layer lower bounds (issue 4): residual ADDs fused into their
convs (written over the residual) and scratch-free kernels where scratch would raise the peak,
bit-exact with the numpy reference on host and under QEMU."""
from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import SHARED_MODELS, shared_model
from models import INT8_MODELS, random_inputs, sample_inputs
from oplab import assert_exact
from toolchain.backends.c import lower
from toolchain.lowering.ccall import kernel_names
from toolchain.backends.cmemory import scratch_free
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, Op, QuantParams, Tensor
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

BOUNDS = {"kws": 16_000, "vww": 55_296, "ic": 32_768, "ad": 768}
MODELS = {m.key: m for m in INT8_MODELS}
BASELINE = SHARED_MODELS.parent / "baselines" / "TFLM_CORTEX_M4.md"


def load(key):
    path = shared_model(MODELS[key].rel)
    return load_tflite(path)


def kernels(low) -> set[str]:
    return {k for c in low.calls for k in kernel_names(c)}


def tflm_arena(key: str) -> int:
    """TFLM's reference-kernel arena_used_bytes from the shared baseline table."""
    for line in BASELINE.read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 8 and cells[1] == key:
            return int(re.match(r"[\d,]+", cells[7]).group().replace(",", ""))
    raise KeyError(key)


@pytest.mark.parametrize("key", sorted(BOUNDS))
@pytest.mark.parametrize("variant", ["portable", "dsp"])
def test_arena_at_layer_bound(key, variant):
    low = lower(load(key), variant=variant, scratch_free=True)    # the smallest-arena plan
    low.plan.check()
    assert low.plan.arena_size <= BOUNDS[key], (key, variant, low.plan.arena_size)
    if BASELINE.exists():
        assert low.plan.arena_size < tflm_arena(key)
    if key == "ic":      # one fused conv+ADD per residual block, no ADD kernel left
        assert "fitml_conv_add_s8" in kernels(low) and "fitml_add_s8" not in kernels(low)
    if key == "kws":
        assert "fitml_depthwise_conv_s8_noscratch" in kernels(low)


def test_scratch_kept_when_asked():
    low = lower(load("kws"), variant="dsp", scratch_free=False)
    assert low.plan.arena_size > BOUNDS["kws"]
    assert not any(k.endswith("_noscratch") for k in kernels(low))


def test_fast_by_default_smallest_with_memory_small():
    """By default the fastest kernels; `fitml check --memory small` reports the smallest arena
    (the layer-by-layer bound)."""
    import json

    from cli_util import fitml
    assert not any(k.endswith("_noscratch") for k in kernels(lower(load("kws"))))
    path = shared_model("mlperf_tiny/ic/pretrainedResnet_quant.tflite")
    peaks = {}
    for mode in ("fast", "small"):
        proc = fitml("check", path, "--target", "cortex-m4", "--memory", mode, "--no-measure",
                     "--format", "json")
        assert proc.returncode == 0, proc.stderr
        peaks[mode] = json.loads(proc.stdout)["activations_peak_bytes"]
    assert peaks["small"] <= BOUNDS["ic"] < peaks["fast"]


def check_model(key, executor, cases, **opts):
    graph = load(key)
    run = get_executor(executor)
    for i, inputs in enumerate(cases(graph)):
        got = run(graph, inputs, **opts).outputs
        for k, (e, g) in enumerate(zip(run_graph(graph, inputs), got)):
            assert_exact(e, g, f"{key} {executor} case {i} output {k}")


@pytest.mark.parametrize("executor", ["host", "qemu"])
@pytest.mark.parametrize("key", ["kws", "ic"])
def test_models_bit_exact_with_fused_and_scratch_free(key, executor):
    opts = {"target": "cortex-m4"} if executor == "qemu" else {}
    with scratch_free(True):
        check_model(key, executor,
                    lambda g: sample_inputs(MODELS[key], g)[:1] + [random_inputs(g, 7)], **opts)


# --- a random small residual network ----------------------------------------------------------

def q_act(name, shape, rng, scale=None):
    scale = float(rng.uniform(0.02, 0.1)) if scale is None else scale
    return Tensor(name, tuple(shape), "int8", quant=QuantParams(scale, int(rng.integers(-20, 21))))


def conv_op(rng, tensors, x, name, cout, k, pad, act, depthwise=False):
    """A per-channel int8 CONV_2D (or DEPTHWISE_CONV_2D with one input channel) on x."""
    t = tensors[x]
    cin = t.shape[3]
    w_shape = (1, k, k, cout) if depthwise else (cout, k, k, cin)
    taps = k * k * (1 if depthwise else cin)
    s_w = rng.uniform(0.002, 0.02, cout).astype(np.float32)
    acc_std = 74.0 * 127 * 0.58 * np.sqrt(taps)
    w = Tensor(f"{name}_w", w_shape, "int8", rng.integers(-127, 128, w_shape).astype(np.int8),
               QuantParams(s_w, np.zeros(cout, np.int64), 3 if depthwise else 0))
    b = Tensor(f"{name}_b", (cout,), "int32",
               rng.integers(-acc_std, acc_std + 1, cout).astype(np.int32),
               QuantParams(np.float32(t.quant.s) * s_w, np.zeros(cout, np.int64), 0))
    out = q_act(name, (*t.shape[:3], cout), rng,
                float(t.quant.s * s_w.mean() * acc_std / rng.uniform(20, 60)))
    tensors.update({w.name: w, b.name: b, out.name: out})
    attrs = dict(padding=pad, stride=(1, 1), dilation=(1, 1), activation=act)
    if depthwise:
        attrs["depth_multiplier"] = cout
    return Op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", (x, w.name, b.name), (name,),
              attrs)


def residual_net(rng, blocks=3) -> Graph:
    """x -> [conv -> conv -> ADD(residual, conv) (operands in random order)] * blocks, with
    1x1/3x3 kernels; the last block's residual also feeds a final ADD (not fusable there)."""
    h, w, c = (int(v) for v in rng.integers(3, 9, 3))
    tensors = {"x": q_act("x", (1, h, w, c), rng)}
    ops, cur = [], "x"
    for i in range(blocks):
        k, pad = [(3, "SAME"), (1, "VALID"), (5, "SAME")][int(rng.integers(3))]
        ops.append(conv_op(rng, tensors, cur, f"b{i}a", c, 3, "SAME", "RELU"))
        ops.append(conv_op(rng, tensors, f"b{i}a", f"b{i}c", c, k, pad,
                           str(rng.choice(["NONE", "RELU"]))))
        pair = (cur, f"b{i}c") if rng.integers(2) else (f"b{i}c", cur)
        tensors[f"b{i}y"] = q_act(f"b{i}y", tensors[cur].shape, rng)
        ops.append(Op("ADD", pair, (f"b{i}y",), dict(activation=str(rng.choice(["NONE",
                                                                                 "RELU"])))))
        cur = f"b{i}y"
    # a 1-channel depthwise (lowered as a conv) feeding an ADD whose residual lives on
    tensors["z"] = q_act("z", (1, h, w, 1), rng)
    ops.append(conv_op(rng, tensors, "z", "dw", c, 3, "SAME", "NONE", depthwise=True))
    tensors["y1"] = q_act("y1", tensors[cur].shape, rng)
    ops.append(Op("ADD", (cur, "dw"), ("y1",), dict(activation="NONE")))
    ops.append(conv_op(rng, tensors, cur, "tail", c, 1, "VALID", "NONE"))
    tensors["y2"] = q_act("y2", tensors[cur].shape, rng)
    ops.append(Op("ADD", ("tail", "y1"), ("y2",), dict(activation="NONE")))
    return Graph.build(tensors.values(), ops, ["x", "z"], ["y2"]).validate()


@pytest.mark.parametrize("seed", range(4))
def test_residual_fusion_bit_exact_on_host(seed):
    rng = np.random.default_rng([4, seed])
    graph = residual_net(rng)
    low = lower(graph, scratch_free=True)
    fused = [c for c in low.calls if c.kernel == "fitml_conv_add_s8"]
    assert len(fused) >= 3, [c.kernel for c in low.calls]
    # each fused sum shares the residual's bytes
    for op, c in zip(low.graph.ops, low.calls):
        if c.kernel == "fitml_conv_add_s8":
            assert low.plan.offsets[op.outputs[0]] == low.plan.offsets[op.inputs[3]]
    unfused = lower(graph, scratch_free=False)
    assert low.plan.arena_size <= unfused.plan.arena_size
    run = get_executor("host")
    for case in range(3):
        inputs = [rng.integers(-128, 128, graph.tensors[n].shape, dtype=np.int8)
                  for n in graph.inputs]
        with scratch_free(True):
            got = run(graph, inputs).outputs
        assert_exact(run_graph(graph, inputs)[0], got[0], f"seed {seed} case {case}")


@pytest.mark.parametrize("seed", range(3))
def test_scratch_free_kernels_bit_exact(seed):
    """Single convs/depthwise convs (every shape path: padding, strides, dilation, depth
    multiplier, groups) run through the scratch-free kernels on host."""
    from ckernels import conv_graph, spatial, weighted, quant_x
    rng = np.random.default_rng([5, seed])
    run = get_executor("host")
    for i in range(6):
        (h, w), k, stride, dil, pad = spatial(rng)
        if i % 2:
            cin, dm = int(rng.integers(2, 6)), int(rng.choice([1, 2]))
            attrs = dict(padding=pad, stride=stride, dilation=dil, activation="RELU6",
                         depth_multiplier=dm)
            graph = weighted(rng, "int8", "DEPTHWISE_CONV_2D", quant_x(rng, (1, h, w, cin)),
                             (1, *k, cin * dm), 3, attrs, True, True)
            want = "fitml_depthwise_conv_s8_noscratch"
        else:
            groups = int(rng.choice([1, 2]))
            graph = conv_graph(rng, "int8", (1, h, w, 2 * groups), 3 * groups, k, stride, dil,
                               pad, groups, "RELU")
            want = "fitml_conv_s8_noscratch"
        with scratch_free(True):
            low = lower(graph)
            if low.calls[0].kernel != want:     # scratch within the alignment slack
                continue
            inputs = [rng.integers(-128, 128, graph.tensors["x"].shape, dtype=np.int8)]
            got = run(graph, inputs).outputs[0]
        assert_exact(run_graph(graph, inputs)[0], got, f"seed {seed} op {i}")


def test_dsp_depthwise_scratch_free_on_m4():
    """The DSP build's scratch-free 3x3 depthwise (interior pixels in place, borders portable)
    under QEMU cortex-m4, on random shapes, strides and paddings."""
    from ckernels import weighted, quant_x
    rng = np.random.default_rng(6)
    run = get_executor("qemu")
    for i in range(3):
        h, w = (int(v) for v in rng.integers(3, 9, 2))
        stride = tuple(int(v) for v in rng.integers(1, 3, 2))
        attrs = dict(padding=["SAME", "VALID"][i % 2], stride=stride, dilation=(1, 1),
                     activation="NONE", depth_multiplier=1)
        c = 4 * int(rng.integers(1, 4))
        graph = weighted(rng, "int8", "DEPTHWISE_CONV_2D", quant_x(rng, (1, h, w, c)),
                         (1, 3, 3, c), 3, attrs, True, True)
        with scratch_free(True):
            low = lower(graph, variant="dsp")
            assert low.calls[0].kernel == "fitml_depthwise_conv_s8_noscratch"
            inputs = [rng.integers(-128, 128, (1, h, w, c), dtype=np.int8)]
            got = run(graph, inputs, target="cortex-m4").outputs[0]
        assert_exact(run_graph(graph, inputs)[0], got, f"case {i}")


def test_dsp_conv_scratch_free_on_m4():
    """The DSP build's scratch-free conv (4 output channels per widened input word, padded
    taps at borders) under QEMU cortex-m4."""
    from ckernels import conv_graph
    rng = np.random.default_rng(8)
    run = get_executor("qemu")
    for i in range(3):
        h, w = (int(v) for v in rng.integers(3, 9, 2))
        k = [(3, 3), (1, 1), (3, 2)][i]
        stride = tuple(int(v) for v in rng.integers(1, 3, 2))
        graph = conv_graph(rng, "int8", (1, h, w, 8), 8, k, stride, (1, 1),
                           ["SAME", "VALID"][i % 2], 1, "RELU")
        with scratch_free(True):
            low = lower(graph, variant="dsp")
            assert low.calls[0].kernel == "fitml_conv_s8_noscratch"
            inputs = [rng.integers(-128, 128, (1, h, w, 8), dtype=np.int8)]
            got = run(graph, inputs, target="cortex-m4").outputs[0]
        assert_exact(run_graph(graph, inputs)[0], got, f"case {i}")
