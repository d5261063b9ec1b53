"""fitml's post-training quantizer on SVDF and on BATCH_MATMUL with a constant operand.

SVDF (float graph from tests/svdf_models.py's Keras model; the calibration samples run as one
stream, the state kept): TFLM's integer scheme checked against scales computed here from the
float weights and the calibration stream, TFLite Micro and the host C bit-exact to the
reference over an invoke sequence, the output close to the float SVDF's; an SVDF -> SVDF ->
FULLY_CONNECTED graph (two states) too. tests/test_ops_svdf.py
runs the quantizer's graphs (svdf_models.int8_graph) through QEMU and LiteRT too.
BATCH_MATMUL with a constant operand (either side): per-tensor int8 and 16x8, TFLM bit-exact.
"""
from __future__ import annotations

import numpy as np
import pytest

import oplab
import svdf_models as sm
from converted_ops import assert_same
from toolchain import api
from toolchain.backends.tflite import write_tflite
from toolchain.ir import Graph
from toolchain.ops.interpreter import run_graph
from toolchain.ops.quantize import quantize_float
from toolchain.verify.executors import run_sequence
from toolchain.verify.tflm import run_tflm

SHAPE = (6, 8, 5, 2, 1)        # input_size, filters, memory, rank, batch


def svdf_float(bias: bool = True) -> Graph:
    i, f, m, r, b = SHAPE
    wf, wt, bb = sm.svdf_weights(sm.keras_svdf(i, f, m, r, seed=4))
    g = sm.float_graph(wf, wt, bb, b, r)
    if bias:
        return g
    op = g.ops[0]
    inputs = list(op.inputs)
    inputs[3] = ""
    tensors = {n: t for n, t in g.tensors.items() if n != "bias"}
    return Graph.build(tensors.values(), [op.replace(inputs=inputs)], g.inputs, g.outputs)


def stream(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, (SHAPE[4], SHAPE[0])).astype(np.float32) for _ in range(n)]


@pytest.fixture(scope="module")
def svdf():
    """{bias?: (float graph, int8 graph)}, quantized on one seeded stream of 32 frames."""
    out = {}
    for bias in (True, False):
        g = svdf_float(bias)
        out[bias] = g, api.quantize(g, [[x] for x in stream(1, 32)], progress=False)
    return out


def test_svdf_follows_tflm_integer_scheme(svdf):
    g, q = svdf[True]
    t, f = q.tensors, g.tensors
    op = q.ops[0]
    assert [o.kind for o in q.ops] == ["SVDF"] and op.attr("activation") == "RELU"
    assert [t[n].dtype for n in op.inputs] == ["int8", "int8", "int16", "int32", "int16"]
    assert t["out"].dtype == "int8"
    wf, wt = f["weights_feature"].data, f["weights_time"].data
    proj = np.stack([x @ wf.T for x in stream(1, 32)])
    for name, want in (("weights_feature", np.abs(wf).max() / 127),
                       ("weights_time", np.abs(wt).max() / 511),    # 10 bits
                       ("state", np.abs(proj).max() / 32767)):
        assert t[name].quant.zp == 0
        np.testing.assert_allclose(t[name].quant.s, want, rtol=1e-6, err_msg=name)
    assert np.abs(t["weights_feature"].data.astype(int)).max() == 127
    assert np.abs(t["weights_time"].data.astype(int)).max() == 511
    assert not t["state"].data.any()
    s_bias = np.float32(t["state"].quant.s) * np.float32(t["weights_time"].quant.s)
    assert np.float32(t["bias"].quant.s) == s_bias
    diff = np.abs(t["bias"].data - f["bias"].data / np.float64(s_bias))
    assert diff.max() <= 0.5 + 1e-6, f"bias codes off by {diff.max()}"


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("executor", ["tflm", "host"])
def test_quantized_svdf_sequence_is_bit_exact(svdf, bias, executor):
    q = svdf[bias][1]
    x = q.tensors["x"].quant
    frames = [[quantize_float(v, x.s, x.zp, "int8")] for v in stream(2, 9)]
    seq = frames + [None] + frames[:3]
    want = run_sequence("reference", q, seq)
    got = run_sequence(executor, q, seq)
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(want, got)):
        assert_same(a[0], b[0], f"{executor} invoke {k}")


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_quantized_svdf_tracks_the_float_stream(svdf, bias):
    """Over a held-out stream the dequantized int8 outputs follow the float ones (SNR above
    25 dB; 16-bit weights_time would overflow TFLM's int32 sum and wrap)."""
    g, q = svdf[bias]
    x, y = q.tensors["x"].quant, q.tensors["out"].quant
    frames = stream(3, 16)
    want = np.stack([o[0] for o in run_sequence("reference", g, [[v] for v in frames])])
    codes = run_sequence("reference", q, [[quantize_float(v, x.s, x.zp, "int8")]
                                          for v in frames])
    got = (np.stack([o[0] for o in codes]).astype(np.float64) - y.zp) * y.s
    snr = 10 * np.log10(np.sum(want.astype(np.float64) ** 2) / np.sum((want - got) ** 2))
    print(f"SVDF bias={bias}: SNR {snr:.1f} dB")
    assert snr > 25, f"SNR {snr:.1f} dB"


@pytest.mark.parametrize("const_first", [False, True], ids=["const_rhs", "const_lhs"])
@pytest.mark.parametrize("acts", ["int8", "int16"])
def test_batch_matmul_with_constant_operand(const_first, acts):
    rng = np.random.default_rng(5)
    x = oplab.act("x", (2, 4, 8), "float32")
    w = oplab.const("w", rng.normal(0, 0.5, (2, 3, 4) if const_first else (2, 8, 5))
                    .astype(np.float32))
    ins = [w, x] if const_first else [x, w]
    g = oplab.one_op("BATCH_MATMUL", ins, {}, oplab.out_like("BATCH_MATMUL", ins, {}))
    calib = [[rng.uniform(-1, 1, (2, 4, 8)).astype(np.float32)] for _ in range(16)]
    q = api.quantize(g, calib, progress=False, activations=acts)
    (op,) = [op for op in q.ops if op.kind == "BATCH_MATMUL"]
    wq = q.tensors[op.inputs[0 if const_first else 1]]
    assert wq.is_const and wq.dtype == acts and not wq.quant.per_channel
    blob, t = write_tflite(q), q.tensors["x"]
    for k in range(3):
        v = quantize_float(rng.uniform(-1, 1, (2, 4, 8)), t.quant.s, t.quant.zp, t.dtype)
        want = run_graph(q, [v])[0]
        assert_same(want, run_tflm(blob, [v])[0], f"tflm case {k}")


def test_two_svdf_layers_and_fc_quantize_bit_exact():
    """SVDF (RELU) -> SVDF -> FULLY_CONNECTED (keyword-spotting shape): two states calibrated
    on one stream; TFLM equals the reference over a sequence with a reset, SNR above 25 dB."""
    rng = np.random.default_rng(7)
    g = sm.two_svdf_and_fc(rng)
    calib = [[rng.uniform(-1, 1, (1, 6)).astype(np.float32)] for _ in range(40)]
    q = api.quantize(g, calib, progress=False)
    assert [op.kind for op in q.ops] == ["SVDF", "SVDF", "FULLY_CONNECTED"]
    assert q.tensors["state"].dtype == q.tensors["state2"].dtype == "int16"
    x, y = q.tensors["x"].quant, q.tensors["logits"].quant
    frames = [rng.uniform(-1, 1, (1, 6)).astype(np.float32) for _ in range(10)]
    codes = [[quantize_float(v, x.s, x.zp, "int8")] for v in frames]
    seq = codes + [None] + codes[:3]
    want = run_sequence("reference", q, seq)
    got = run_sequence("tflm", q, seq)
    for k, (a, b) in enumerate(zip(want, got)):
        assert_same(a[0], b[0], f"tflm invoke {k}")
    fl = np.stack([o[0] for o in run_sequence("reference", g, [[v] for v in frames])])
    dq = (np.stack([o[0] for o in want[:10]]).astype(np.float64) - y.zp) * y.s
    snr = 10 * np.log10(np.sum(fl.astype(np.float64) ** 2) / np.sum((fl - dq) ** 2))
    print(f"SVDF-SVDF-FC: SNR {snr:.1f} dB")
    assert snr > 25, f"SNR {snr:.1f} dB"
