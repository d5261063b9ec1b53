"""int4 weights: PTQ's per-layer precision map, and the packed-int4 C kernels (fitml_*_s8s4).

A torch CNN built here (3x3 conv with an odd patch depth, a depth-multiplier-2 depthwise conv,
a 1x1 conv, an FC with an odd input size, so packed filter rows start mid-byte) is quantized
by `api.quantize` on seeded calibration data, once all-int8 and once with every layer int4.
The int4 graph must equal TFLite Micro (through the written .tflite), the host C build
(ASan/UBSan) and the Cortex-M4 build under QEMU exactly; in the built ELF each int4 filter
array is half its int8 twin (measured with arm-none-eabi-nm -S).
"""
from __future__ import annotations

import numpy as np
import pytest

from oplab import assert_exact
from toolchain import api
from toolchain.backends.c import c_context, lower
from toolchain.lowering.ccall import CArray, TensorRef
from toolchain.backends.tflite import write_tflite
from toolchain.errors import UsageError
from toolchain.report.fit import fit
from toolchain.report.measure import nm_sizes
from toolchain.ops.quantize import quantize_float
from toolchain.quant.weights import mse_clip
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def build_net():
    import torch
    nn = torch.nn
    torch.manual_seed(3)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(),                  # patch depth 27 (odd)
        nn.Conv2d(6, 12, 3, stride=2, padding=1, groups=6), nn.ReLU(),   # depthwise, dm 2
        nn.Conv2d(12, 9, 1), nn.ReLU(),
        nn.Flatten(), nn.Linear(9 * 5 * 5, 7)).eval()              # K = 225 (odd)


@pytest.fixture(scope="module")
def models():
    """(float graph, all-int8 graph, all-int4 graph, seeded int8 inputs)."""
    import torch
    net = build_net()
    graph = api.load(net, (torch.zeros(1, 3, 9, 9),))
    rng = np.random.default_rng(41)
    calib = [[rng.uniform(-1, 1, (1, 9, 9, 3)).astype(np.float32)] for _ in range(16)]
    q8 = api.quantize(graph, calib)
    layers = {op.outputs[0]: "int4" for op in q8.ops if op.kind in WEIGHTED}
    from toolchain.quant.ptq import quantize
    q4 = quantize(graph, calib, precision=layers)
    t = q4.tensors[q4.inputs[0]]
    cases = [[quantize_float(rng.uniform(-1, 1, t.shape).astype(np.float32), t.quant.s,
                             t.quant.zp, "int8")] for _ in range(3)]
    cases.append([rng.integers(-128, 128, t.shape, dtype=np.int8)])
    return graph, q8, q4, cases


def weighted(graph):
    return [op for op in graph.ops if op.kind in WEIGHTED]


def test_precision_map_gives_int4_weights(models):
    _, q8, q4, _ = models
    kinds = sorted({op.kind for op in weighted(q4)})
    assert kinds == sorted(WEIGHTED)
    for op8, op4 in zip(weighted(q8), weighted(q4)):
        w8, w4 = q8.tensors[op8.inputs[1]], q4.tensors[op4.inputs[1]]
        assert (w8.dtype, w4.dtype) == ("int8", "int4")
        assert w4.data.min() >= -7 and w4.data.max() <= 7
        assert w4.nbytes == (w8.nbytes + 1) // 2
        channels = w4.shape[w4.quant.axis] if w4.quant.axis is not None else 1
        # TFLM: int4 FC filters per tensor; conv and depthwise per channel
        assert w4.quant.scale.size == (1 if op4.kind == "FULLY_CONNECTED" else channels)
        bias = q4.tensors[op4.inputs[2]]
        expected = (np.float32(q4.tensors[op4.inputs[0]].quant.s) * w4.quant.scale).astype(
            np.float32)
        np.testing.assert_array_equal(np.broadcast_to(expected, bias.quant.scale.shape),
                                      bias.quant.scale)


def test_precision_map_rejects_unknown_layers_and_precisions(models):
    from toolchain.quant.ptq import quantize
    graph = models[0]
    calib = [[np.zeros((1, 9, 9, 3), np.float32)]]
    with pytest.raises(UsageError, match="not the output"):
        quantize(graph, calib, precision={"no_such_layer": "int4"})
    layer = weighted(models[1])[0].outputs[0]
    with pytest.raises(UsageError, match="int2"):
        quantize(graph, calib, precision={layer: "int2"})


def test_mse_clip_never_worse_than_the_max_scale():
    rng = np.random.default_rng(5)
    rows = rng.standard_t(3, (32, 200))                  # heavy tails: clipping should help
    peak = np.abs(rows).max(axis=1) / 7
    factor = mse_clip(rows, peak, 7)

    def err(scale):
        s = scale[:, None]
        return ((np.clip(np.round(rows / s), -7, 7) * s - rows) ** 2).sum(axis=1)
    assert np.all(err(peak * factor) <= err(peak) + 1e-12)
    assert np.mean(factor) < 1.0


def test_int4_reference_equals_tflm(models):
    from toolchain.verify.tflm import run_tflm
    q4, cases = models[2], models[3]
    blob = write_tflite(q4)
    for i, x in enumerate(cases):
        assert_exact(run_graph(q4, x)[0], np.asarray(run_tflm(blob, x)[0]).reshape(
            q4.tensors[q4.outputs[0]].shape), f"case {i}")


@pytest.mark.parametrize("executor", ["host", "qemu"])
def test_int4_c_bit_exact(models, executor):
    q4, cases = models[2], models[3]
    run = get_executor(executor)
    for i, x in enumerate(cases):
        assert_exact(run_graph(q4, x)[0], run(q4, x).outputs[0], f"{executor} case {i}")


def test_int4_lowers_to_s8s4_kernels_with_packed_filters(models):
    q4 = models[2]
    low = lower(q4)
    for op, call in zip(q4.ops, low.calls):
        if op.kind in WEIGHTED:
            assert call.kernel.endswith("_s8s4"), call.kernel
            filt = call.params["filter"]
            assert isinstance(filt, CArray) and filt.ctype == "uint8_t"
            assert filt.values.size == (q4.tensors[op.inputs[1]].size + 1) // 2


def filter_symbols(graph) -> dict[str, str]:
    """Layer (output tensor) -> C symbol of its filter array in the generated model."""
    low = lower(graph, "model")
    c_context(low, "cortex-m4", "")
    out = {}
    for op, call in zip(graph.ops, low.calls):
        if op.kind in WEIGHTED:
            filt = call.params["filter"]
            out[op.outputs[0]] = (low.array_name(filt) if isinstance(filt, CArray)
                                  else low.weight_name(filt.name)
                                  if isinstance(filt, TensorRef) else None)
    return out


def test_int4_halves_filter_bytes_in_the_elf(models):
    from toolchain.verify import qemu_build
    _, q8, q4, _ = models
    sizes = {}
    # a portable build (Cortex-M3): DSP builds store some int8 layers as int16 layouts instead
    for tag, graph in (("int8", q8), ("int4", q4)):
        elf, _ = qemu_build.build_qemu(graph, "cortex-m3")
        symbols = {name: size for name, _, _, size in nm_sizes(elf)}
        sizes[tag] = {layer: symbols[sym] for layer, sym in filter_symbols(graph).items()}
    assert sizes["int8"].keys() == sizes["int4"].keys() and len(sizes["int8"]) == 4
    for layer, n8 in sizes["int8"].items():
        assert sizes["int4"][layer] == (n8 + 1) // 2, (layer, n8, sizes["int4"][layer])
    predicted = fit(q8, "cortex-m4", measure=False).weights_bytes - fit(
        q4, "cortex-m4", measure=False).weights_bytes
    assert predicted >= sum(n8 - (n8 + 1) // 2 for n8 in sizes["int8"].values()) - 64
