"""int16 activations (TFLite's 16x8 scheme) in PTQ: whole-model and per-layer graphs that TFLite
Micro runs bit-exact to fitml's reference, the SNR they buy, TensorFlow's own 16x8 converter side
by side, the .tflite round trip, `--int16 auto` under RAM budgets and bad layer names."""
from __future__ import annotations

import numpy as np
import pytest

from cli_util import fitml, one_clear_line
from conftest import REPO
from oplab import assert_exact
from toolchain import api
from toolchain.backends.tflite import write_tflite
from toolchain.errors import UsageError
from toolchain.report.fit import fit
from toolchain.frontends.tflite import load_tflite
from toolchain.ops.quantize import quantize_float
from toolchain.passes import CLEANUP, run_pipeline
from toolchain.quant import mixed
from toolchain.quant.accuracy import evaluate
from toolchain.quant.calibration import collect
from toolchain.quant.ptq import quantize
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm

EX = REPO / "examples"
MIXED = {"/5/Relu_output_0": "int16"}        # the MNIST example's depthwise layer


@pytest.fixture(scope="module")
def mnist():
    graph = run_pipeline(api.load(EX / "mnist_cnn.onnx"), CLEANUP)
    calib = np.load(EX / "mnist_calib.npy")
    val = np.load(EX / "mnist_val.npz")
    return dict(graph=graph, stats=collect(graph, calib, progress=False), calib=calib,
                x=val["x"], labels=val["labels"])


def _codes(q, x):
    t = q.tensors[q.inputs[0]]
    return x if t.dtype == "float32" else quantize_float(x, t.quant.s, t.quant.zp, t.dtype)


def _assert_tflm_exact(q, xs, label):
    blob = write_tflite(q)
    for i, x in enumerate(xs):
        ours = run_graph(q, [_codes(q, x[None])])[0]
        theirs = np.asarray(run_tflm(blob, [_codes(q, x[None])])[0]).reshape(ours.shape)
        assert_exact(ours, theirs, f"{label} case {i}")


def _follows_16x8(q) -> None:
    """Every int16 activation is symmetric, every 16x8 weighted op has int8 weights and an
    int64 bias at s_in * s_w."""
    for t in q.tensors.values():
        if t.dtype == "int16":
            assert t.quant.zp == 0 and not t.quant.per_channel, t.name
    for op in q.ops:
        x = q.tensors[op.inputs[0]]
        if op.kind in mixed.WEIGHTED and x.dtype == "int16":
            w, b = q.tensors[op.inputs[1]], q.tensors[op.inputs[2]]
            assert w.dtype == "int8" and b.dtype == "int64" and q.tensors[op.outputs[0]].dtype \
                == "int16", op
            np.testing.assert_array_equal(b.quant.scale, np.float32(x.quant.s) * w.quant.scale)


@pytest.mark.parametrize("io", ["int8", "float"])
def test_whole_model_16x8_is_bit_exact_in_tflm(mnist, io):
    q = quantize(mnist["graph"], mnist["stats"], io=io, activations="int16")
    _follows_16x8(q)
    for name in q.inputs + q.outputs:                    # model I/O keeps its type
        assert q.tensors[name].dtype == ("int8" if io == "int8" else "float32")
    inner = [op for op in q.ops if op.kind not in ("QUANTIZE", "DEQUANTIZE")]
    assert all(q.tensors[op.outputs[0]].dtype == "int16" for op in inner)
    _assert_tflm_exact(q, mnist["x"][:6], f"16x8 io={io}")


def test_16x8_has_higher_snr_than_int8(mnist):
    """Measured on the held-out MNIST images, float I/O (an int8 output would cap both)."""
    snr = {}
    for acts in ("int8", "int16"):
        q = quantize(mnist["graph"], mnist["stats"], io="float", activations=acts)
        rep = evaluate(mnist["graph"], q, mnist["x"], mnist["labels"], progress=False)
        snr[acts] = rep.output_snr_db[0]
        assert rep.int8_accuracy >= rep.float_accuracy - 0.01
    assert snr["int16"] > snr["int8"] + 2.0, snr


def test_mixed_graph_converts_only_at_the_boundaries(mnist):
    g = mnist["graph"]
    q = quantize(g, mnist["stats"], activations=MIXED)
    _follows_16x8(q)
    kinds = [(op.kind, q.tensors[op.inputs[0]].dtype, q.tensors[op.outputs[0]].dtype)
             for op in q.ops]
    # DW reads int8 (converted up), writes int16; the conv after it reads int16 in 16x8 and
    # its output goes back to int8; everything else stays int8 (the ONNX export's PAD is
    # folded into the first conv's padding at load)
    assert kinds == [("CONV_2D", "int8", "int8"),
                     ("QUANTIZE", "int8", "int16"), ("DEPTHWISE_CONV_2D", "int16", "int16"),
                     ("CONV_2D", "int16", "int16"), ("QUANTIZE", "int16", "int8"),
                     ("MAX_POOL_2D", "int8", "int8"), ("CONV_2D", "int8", "int8"),
                     ("RESHAPE", "int8", "int8"), ("FULLY_CONNECTED", "int8", "int8")], kinds
    assert q.tensors["/5/Relu_output_0"].dtype == "int16"
    _assert_tflm_exact(q, mnist["x"][:6], "mixed")
    prec = mixed.plan(g, MIXED)
    assert prec.int16_ops == {1, 2}


def test_write_load_round_trip_is_identical_and_exact(mnist):
    for acts in ("int16", MIXED):
        q = quantize(mnist["graph"], mnist["stats"], io="float", activations=acts)
        blob = write_tflite(q)
        back = load_tflite(blob)
        assert write_tflite(back) == blob
        assert set(back.tensors) == set(q.tensors)
        for n, t in q.tensors.items():
            b = back.tensors[n]
            assert (b.dtype, b.shape) == (t.dtype, t.shape), n
            assert (t.quant is None and b.quant is None) or t.quant.same_as(b.quant), n
            if t.is_const:
                np.testing.assert_array_equal(b.data, t.data, err_msg=n)
        assert [(o.kind, o.inputs, o.outputs) for o in back.ops] == \
            [(o.kind, tuple(i for i in o.inputs), o.outputs) for o in q.ops]
        _assert_tflm_exact(back, mnist["x"][6:9], f"round trip {acts}")


def test_int4_weights_and_int16_activations_are_refused(mnist):
    with pytest.raises(UsageError, match="int4 weights with int16"):
        quantize(mnist["graph"], mnist["stats"], precision={"/5/Relu_output_0": "int4"},
                 activations=MIXED)


def test_auto_promotes_fewer_layers_on_a_tight_ram_budget(mnist, tmp_path):
    q8 = quantize(mnist["graph"], mnist["stats"])
    int8_ram = sum(r.used for r in fit(q8, "cortex-m4", measure=False).regions
                   if r.kind == "ram")
    loose = api.compile(EX / "mnist_cnn.onnx", "cortex-m4", tmp_path / "a.tflite", "tflite",
                        calib=EX / "mnist_calib.npy", int16="auto")["int16"]
    tight = api.compile(EX / "mnist_cnn.onnx", "cortex-m4", tmp_path / "b.tflite", "tflite",
                        calib=EX / "mnist_calib.npy", int16="auto", ram=int8_ram)["int16"]
    assert len(tight["layers"]) < len(loose["layers"]), (tight, loose)
    assert loose["snr_db"] >= loose["int8_snr_db"] + 1.0          # the documented rule
    assert all(t["ram_bytes"] > int8_ram for t in tight["trials"] if not t["fits"])
    written = load_tflite(tmp_path / "a.tflite")
    assert any(t.dtype == "int16" for t in written.tensors.values())


def test_cli_names_a_bad_int16_layer_and_lists_the_valid_ones(tmp_path):
    proc = fitml("compile", EX / "mnist_cnn.onnx", "--calib", EX / "mnist_calib.npy",
                 "--format", "tflite", "-o", tmp_path / "m.tflite", "--int16", "nosuchlayer")
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "nosuchlayer" in line and "/5/Relu_output_0" in line and "logits" in line
    assert not (tmp_path / "m.tflite").exists()


def test_cli_int16_layers_are_written(tmp_path):
    proc = fitml("compile", EX / "mnist_cnn.onnx", "--calib", EX / "mnist_calib.npy",
                 "--format", "tflite", "-o", tmp_path / "m.tflite", "--int16",
                 "/5/Relu_output_0")
    assert proc.returncode == 0, proc.stderr
    assert "int16 activations (layers): 1 layer" in proc.stdout
    g = load_tflite(tmp_path / "m.tflite")
    assert g.tensors["/5/Relu_output_0"].dtype == "int16"


# ------------------------------------------------------- TensorFlow's own 16x8 converter

@pytest.fixture(scope="module")
def keras_pair(tmp_path_factory):
    """A small Keras CNN as float .tflite, and TensorFlow's 16x8 conversion of it."""
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(3)
    L = tf.keras.layers
    model = tf.keras.Sequential([
        tf.keras.Input((12, 12, 2), batch_size=1),
        L.Conv2D(6, 3, padding="same", activation="relu"), L.DepthwiseConv2D(3, padding="same"),
        L.MaxPooling2D(2), L.Conv2D(8, 3, activation="relu"), L.AveragePooling2D(2),
        L.Flatten(), L.Dense(5)])
    rng = np.random.default_rng(5)
    calib = [rng.normal(0, 1, (1, 12, 12, 2)).astype(np.float32) for _ in range(32)]
    test = [rng.normal(0, 1, (1, 12, 12, 2)).astype(np.float32) for _ in range(40)]
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    float_blob = conv.convert()
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x] for x in calib)
    conv.target_spec.supported_ops = [
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    return load_tflite(float_blob), conv.convert(), calib, test


def _snr(want, got) -> float:
    want, got = np.concatenate(want).ravel(), np.concatenate(got).ravel()
    return 10 * np.log10(np.sum(want ** 2) / np.sum((want - got) ** 2))


def test_fitml_16x8_against_tensorflow_16x8(keras_pair):
    """Same Keras model, same calibration: fitml's and TensorFlow's 16x8 models agree on top-1
    and reach SNRs within 3 dB of each other, both well above int8 (printed side by side)."""
    graph, tf_blob, calib, test = keras_pair
    ours = quantize(graph, [[x] for x in calib], io="float", activations="int16")
    int8 = quantize(graph, [[x] for x in calib], io="float")
    tf_graph = load_tflite(tf_blob)
    want = [run_graph(graph, [x])[0] for x in test]
    got = {name: [np.asarray(run_tflm(write_tflite(g), [x])[0]).reshape(w.shape)
                  for x, w in zip(test, want)]
           for name, g in (("fitml 16x8", ours), ("fitml int8", int8))}
    got["tensorflow 16x8"] = [np.asarray(run_tflm(tf_blob, [x])[0]).reshape(w.shape)
                              for x, w in zip(test, want)]
    snr = {k: _snr(want, v) for k, v in got.items()}
    print("output SNR vs float:", {k: round(v, 1) for k, v in snr.items()})
    assert abs(snr["fitml 16x8"] - snr["tensorflow 16x8"]) < 3.0, snr
    assert min(snr["fitml 16x8"], snr["tensorflow 16x8"]) > snr["fitml int8"] + 3.0, snr
    top = [int(np.argmax(a)) == int(np.argmax(b))
           for a, b in zip(got["fitml 16x8"], got["tensorflow 16x8"])]
    assert np.mean(top) >= 0.95, top
    # the same int16 scale rule: symmetric, max|x| / 32767 on the model input
    t_in = tf_graph.tensors[tf_graph.ops[0].outputs[0]] if tf_graph.ops[0].kind == "QUANTIZE" \
        else tf_graph.tensors[tf_graph.inputs[0]]
    o_in = ours.tensors[ours.ops[0].outputs[0]]
    assert t_in.dtype == o_in.dtype == "int16" and t_in.quant.zp == o_in.quant.zp == 0
    assert abs(t_in.quant.s / o_in.quant.s - 1) < 1e-5, (t_in.quant.s, o_in.quant.s)
