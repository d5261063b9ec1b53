"""SOFTMAX: seeded one-op graphs (row lengths up to 1000, input scales over three decades, betas,
the extreme multipliers, the quantization of real models' SOFTMAX, flat rows up to TFLM's sum
limit); the int8 reference == TFLite Micro exactly, beyond TFLM's limit it rounds 256 / n; what
TFLM rejects is refused; float within 1e-5 of LiteRT and TFLM."""
from __future__ import annotations

import numpy as np
import oplab
import pytest
from ai_edge_litert import schema_py_generated as schema
from conftest import shared_model
from oplab import act, one_op

from toolchain.ir import GraphError
from toolchain.ops.softmax import exps_and_sums, softmax_int8
from nonlinear_cases import run_exact, run_float, softmax_graph


SUM_LIMIT = 1 << 28  # 512.0 in Q12.19


def softmax_rows(rng, rows, length, beta, s_in):
    """int8 rows with random centre and spread: saturated, flat and everything between.

    Rows whose sum of exps reaches 512.0 are drawn again: TFLM asserts on them (see
    test_softmax_int8_beyond_tflm_sum_limit).
    """
    out = np.empty((rows, length), np.int8)
    for r in range(rows):
        while True:
            spread = rng.choice([0, 2, 8, 32, 128, 255])
            x = rng.integers(-128, 128) + np.round(rng.uniform(-1, 1, length) * spread)
            out[r] = np.clip(x, -128, 127)
            if exps_and_sums(out[r], beta, s_in)[2][0] < SUM_LIMIT:
                break
    return out


SOFTMAX_LENGTHS = [2, 3, 4, 5, 7, 10, 12, 16, 31, 64, 100, 127, 255, 256, 333, 500, 777, 1000]


@pytest.mark.parametrize("case", range(36))
def test_softmax_int8_vs_tflm(case):
    rng = np.random.default_rng(100 + case)
    length = SOFTMAX_LENGTHS[case % len(SOFTMAX_LENGTHS)]
    s_in = float(np.exp(rng.uniform(np.log(2e-3), np.log(2.0))))
    beta = float(rng.choice([0.1, 0.5, 1.0, 1.0, 2.0, 3.7]))
    shape = (3, length) if case % 3 else (1, 2, length)
    graph = softmax_graph(shape, s_in, int(rng.integers(-128, 128)), beta)
    x = softmax_rows(rng, int(np.prod(shape[:-1])), length, beta, s_in).reshape(shape)
    out = run_exact(graph, [x])[0]
    assert (out.astype(np.int64) + 128).sum(axis=-1).max() <= 256 + length // 2


@pytest.mark.parametrize("s_in,beta", [(40.0, 2.0), (1e3, 1.0), (2.0 ** -25, 1.0),
                                       (1.0 / 256, 1.0), (0.5, 0.25)])
def test_softmax_int8_extreme_multipliers(s_in, beta):
    """The 2^31 - 1 cap on beta * s_in * 2^26, the smallest legal one, exact powers of two."""
    rng = np.random.default_rng(7)
    graph = softmax_graph((8, 50), s_in, 0, beta)
    run_exact(graph, [softmax_rows(rng, 8, 50, beta, s_in)])


@pytest.mark.parametrize("model", ["mlperf_tiny/kws/kws_ref_model_int8.tflite",
                                   "mlperf_tiny/vww/vww_96_int8.tflite",
                                   "mlperf_tiny/ic/pretrainedResnet_quant.tflite",
                                   "tflm/micro_speech_quantized.tflite",
                                   "tflm/mnist_lstm_int8.tflite"])
def test_softmax_int8_real_model_params(model):
    """The SOFTMAX quantization of real models, on many rows of every kind."""
    m = schema.ModelT.InitFromPackedBuf(shared_model(model).read_bytes(), 0)
    sub = m.subgraphs[0]
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in m.operatorCodes]
    [op] = [o for o in sub.operators if codes[o.opcodeIndex] == schema.BuiltinOperator.SOFTMAX]
    t = sub.tensors[op.inputs[0]]
    depth = int(t.shape[-1])
    s_in, beta = float(t.quantization.scale[0]), float(op.builtinOptions.beta)
    graph = softmax_graph((256, depth), s_in, int(t.quantization.zeroPoint[0]), beta)
    run_exact(graph, [softmax_rows(np.random.default_rng(depth), 256, depth, beta, s_in)])


@pytest.mark.parametrize("length", [255, 256, 257, 400, 511])
def test_softmax_int8_flat_rows_up_to_tflm_sum_limit(length):
    """Flat rows: the sum of exps is `length`, the final shift nb + 23 reaches 31."""
    graph = softmax_graph((2, length), 0.05, 0, 1.0)
    x = np.stack([np.full(length, 5), np.arange(length) % 3 - 100]).astype(np.int8)
    run_exact(graph, [x])


def test_softmax_int8_beyond_tflm_sum_limit():
    """Sums >= 512.0 need a shift > 31 (TFLM aborts); the reference rounds 256 / n exactly."""
    for n in (512, 600, 1000):
        out = softmax_int8(np.zeros((1, n), np.int8), 1.0, 0.05)
        oplab.assert_exact(np.full((1, n), -128 + round(256 / n), np.int8), out, f"n={n}")


@pytest.mark.parametrize("s_out,zp_out,beta,s_in", [(1 / 256, -127, 1.0, 0.1),
                                                    (1 / 255, -128, 1.0, 0.1),
                                                    (1 / 256, -128, 1.0, 1e-8)])
def test_softmax_int8_rejects_what_tflm_rejects(s_out, zp_out, beta, s_in):
    with pytest.raises(GraphError):
        softmax_graph((1, 10), s_in, 0, beta, s_out, zp_out)


@pytest.mark.parametrize("beta,length", [(1.0, 10), (0.5, 100), (2.0, 1000)])
def test_softmax_float_vs_litert(beta, length):
    x = act("x", (4, length), "float32")
    graph = one_op("SOFTMAX", [x], {"beta": beta}, act("out", (4, length), "float32"))
    rng = np.random.default_rng(length)
    run_float(graph, [(rng.standard_normal((4, length)) * 4).astype(np.float32)])
