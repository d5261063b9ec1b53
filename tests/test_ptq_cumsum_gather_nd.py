"""fitml's post-training quantizer on float converter models with CUMSUM (after a RELU, whose
asymmetric range would give TFLM's int8 sum, which starts at -zp_in, a bias of half the input
range: the quantizer makes CUMSUM inputs symmetric) and GATHER_ND (output shares its input's
params): the int8 graph equals TFLite Micro bit for bit, host C and QEMU equal the reference,
and it stays close to the float model."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
from toolchain import api
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ops.interpreter import run_graph
from toolchain.ops.quantize import quantize_float

SHAPES = [(2, 12, 4)]
MIN_SNR_DB = 25.0


def relu_cumsum_gather(x):
    import tensorflow as tf  # lazy: only the converter fixture needs it
    c = tf.math.cumsum(tf.nn.relu(x) * 3.0, axis=1)
    return [c, tf.gather_nd(c, np.array([[1, 11], [0, 3], [1, 0]], np.int32)),
            tf.math.cumsum(x, axis=-1, exclusive=True, reverse=True)]


@pytest.fixture(scope="module")
def graphs():
    tf = pytest.importorskip("tensorflow")
    float_graph = load_tflite(co.convert(tf.function(relu_cumsum_gather), SHAPES, "float32"))
    rng = np.random.default_rng(0)
    calibration = [[rng.uniform(-2, 2, s).astype(np.float32) for s in SHAPES] for _ in range(16)]
    return float_graph, api.quantize(float_graph, calibration, progress=False)


def cases(q, seed: int, count: int = 3):
    rng = np.random.default_rng(seed)
    x = [rng.uniform(-2, 2, SHAPES[0]).astype(np.float32) for _ in range(count)]
    t = q.tensors[q.inputs[0]]
    return x, [[quantize_float(v, t.quant.s, t.quant.zp, "int8")] for v in x]


def test_int8_cumsum_and_gather_nd_with_centered_input(graphs):
    _, q = graphs
    ops = [op for op in q.ops if op.kind in ("CUMSUM", "GATHER_ND")]
    assert sorted(op.kind for op in ops) == ["CUMSUM", "CUMSUM", "GATHER_ND"], q.ops
    for op in ops:
        assert q.tensors[op.inputs[0]].dtype == "int8"
        if op.kind == "CUMSUM":
            assert int(q.tensors[op.inputs[0]].quant.zp) in (-1, 0), q.tensors[op.inputs[0]]


@pytest.mark.parametrize("executor,target", [("tflm", None), ("host", None),
                                             ("qemu", "cortex-m4")])
def test_quantized_graph_runs_bit_exact(graphs, executor, target):
    _, q = graphs
    model = co.Model(q, write_tflite(q), cases(q, 1)[1])
    if executor == "tflm":
        co.check_tflm(model, atol=0)
    else:
        co.check_c(model, executor, target, atol=0)


def test_quantized_graph_stays_close_to_float(graphs):
    float_graph, q = graphs
    floats, ints = cases(q, 2, 8)
    for x, xq in zip(floats, ints):
        for k, (want, got) in enumerate(zip(run_graph(float_graph, [x]), run_graph(q, xq))):
            t = q.tensors[q.outputs[k]]
            back = (got.astype(np.float64) - int(t.quant.zp)) * float(t.quant.s)
            noise = np.sum((back - want) ** 2)
            snr = 10 * np.log10(np.sum(np.asarray(want, np.float64) ** 2) / max(noise, 1e-30))
            assert snr >= MIN_SNR_DB, (k, snr)
