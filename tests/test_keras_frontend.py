"""Keras frontend: .h5 / .keras files -> float Graph equal to Keras's own outputs.

Every graph is checked three ways: the numpy reference and LiteRT (running the .tflite that
write_tflite emits) against Keras, within 1e-4. Small models are built here with tf_keras
(Keras 2) and Keras 3, given random weights and BatchNorm statistics, saved to tmp_path.
"""
from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest

from cli_util import fitml, one_clear_line
from conftest import shared_model
from toolchain import api
from toolchain.backends.tflite import write_tflite
from toolchain.errors import ModelError
from toolchain.frontends.keras import load_keras
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TOL = dict(rtol=1e-4, atol=1e-4)
REAL = {"vww": ("mlperf_tiny/vww/vww_96.h5", "mlperf_tiny/vww/vww_96_float.tflite", 0, 1),
        "ic": ("mlperf_tiny/ic/pretrainedResnet.h5", "mlperf_tiny/ic/pretrainedResnet.tflite",
               0, 255),
        "ad": ("mlperf_tiny/ad/ad01.h5", None, -3, 3)}


@pytest.fixture(scope="session")
def libs():
    """{"tf_keras": Keras 2, "keras": Keras 3}; skipped when TensorFlow is not installed."""
    tf_keras = pytest.importorskip("tf_keras")
    return {"tf_keras": tf_keras, "keras": pytest.importorskip("keras")}


def keras_outputs(model, inputs) -> list[np.ndarray]:
    out = model([np.asarray(x) for x in inputs] if len(inputs) > 1 else inputs[0],
                training=False)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def assert_matches_keras(graph, model, inputs) -> None:
    """Reference and LiteRT outputs of `graph` equal Keras's within 1e-4."""
    expected = keras_outputs(model, inputs)
    got = run_graph(graph, inputs)
    lite = run_litert(write_tflite(graph), inputs)
    assert len(got) == len(expected) == len(lite)
    for e, g, li in zip(expected, got, lite):
        assert g.shape == e.shape and li.shape == e.shape
        np.testing.assert_allclose(g, e, **TOL, err_msg="reference vs Keras")
        np.testing.assert_allclose(li, e, **TOL, err_msg="LiteRT vs Keras")


def random_inputs(graph, rng, lo=-1.0, hi=1.0):
    return [rng.uniform(lo, hi, graph.tensors[n].shape).astype(np.float32)
            for n in graph.inputs]


# --- the MLPerf Tiny .h5 models ------------------------------------------------------------------
@pytest.fixture(scope="session")
def real_model(libs, request):
    h5, _, _, _ = REAL[request.param]
    path = shared_model(h5)
    return request.param, libs["tf_keras"].models.load_model(path, compile=False), path


@pytest.mark.parametrize("real_model", sorted(REAL), indirect=True)
def test_mlperf_tiny_h5_equals_keras(real_model):
    key, model, path = real_model
    graph = load_keras(path)
    assert dict(graph.metadata) == {"source": path.name, "format": "keras"}
    rng = np.random.default_rng(7)
    lo, hi = REAL[key][2:]
    for _ in range(2):
        assert_matches_keras(graph, model, random_inputs(graph, rng, lo, hi))


@pytest.mark.parametrize("real_model", ["vww", "ic"], indirect=True)
def test_mlperf_tiny_h5_folds_like_the_float_tflite(real_model):
    """BatchNorm folded and ReLU fused: the same op kinds and counts as the released twin."""
    from toolchain.frontends.tflite import load_tflite

    key, _, path = real_model
    twin = load_tflite(shared_model(REAL[key][1]))
    assert Counter(o.kind for o in load_keras(path).ops) == Counter(o.kind for o in twin.ops)


def test_ad01_folds_batchnorm_into_dense():
    graph = load_keras(shared_model(REAL["ad"][0]))
    assert [o.kind for o in graph.ops] == ["FULLY_CONNECTED"] * 10
    assert [o.attr("activation") for o in graph.ops] == ["RELU"] * 9 + ["NONE"]


@pytest.mark.parametrize("key,macs,params", [("vww", 7489664, 210852),
                                             ("ic", 12501632, 77708), ("ad", 264192, 265864)])
def test_mlperf_tiny_h5_macs_and_params_match_the_manifest(key, macs, params):
    """MANIFEST.md's counts for the released .tflite twins (BatchNorm folded away)."""
    info = api.inspect(shared_model(REAL[key][0]))
    assert (info["macs"], info["params_bytes"] // 4) == (macs, params)


# --- small models built here ---------------------------------------------------------------------
def randomize(model, rng) -> None:
    """Random weights everywhere; BatchNorm gets positive variances and non-trivial stats."""
    for layer in model.layers:
        if hasattr(layer, "layers"):
            randomize(layer, rng)
            continue
        weights = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":
            *affine, mean, var = weights
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in affine]
                              + [rng.normal(0, 0.3, mean.shape), rng.uniform(0.3, 2.0, var.shape)])
        elif weights:
            layer.set_weights([rng.normal(0, 0.4, w.shape) for w in weights])


def cnn_with_bn(K):
    L = K.layers
    return K.Sequential([
        K.Input((12, 10, 3)),
        L.Conv2D(8, 3, padding="same", use_bias=False), L.BatchNormalization(), L.ReLU(),
        L.MaxPooling2D(2),
        L.Conv2D(6, (3, 2), strides=2, padding="valid"), L.BatchNormalization(),
        L.Activation("relu6"),
        L.AveragePooling2D(2, strides=1, padding="same"),
        L.Flatten(), L.Dropout(0.5), L.Dense(5, activation="softmax")])


def residual(K):
    L = K.layers
    x = K.Input((8, 8, 4), name="image")
    y = L.Conv2D(4, 3, padding="same")(x)
    y = L.BatchNormalization()(y)
    y = L.Activation("relu")(y)
    y = L.Conv2D(4, 3, padding="same", dilation_rate=2)(y)
    y = L.BatchNormalization()(y)
    y = L.Add()([x, y])
    y = L.ReLU(max_value=6)(y)
    y = L.BatchNormalization()(y)                     # after ADD: stays MUL + ADD
    y = L.GlobalAveragePooling2D()(y)
    return K.Model(x, L.Dense(3, activation="tanh")(y))


def separable(K):
    L = K.layers
    x = K.Input((9, 9, 4))
    y = L.ZeroPadding2D(((1, 0), (2, 1)))(x)
    y = L.SeparableConv2D(6, 3, depth_multiplier=2, activation="relu")(y)
    y = L.DepthwiseConv2D(3, depth_multiplier=2, dilation_rate=2, padding="same",
                          use_bias=False)(y)
    y = L.BatchNormalization()(y)
    y = L.Conv2D(4, 1, groups=4, activation="sigmoid")(y)
    y = L.GlobalMaxPooling2D()(y)
    return K.Model(x, y)


def branches(K):
    """Two inputs, two outputs, merges, a shared layer and a nested Sequential."""
    L = K.layers
    a, b = K.Input((6, 6, 3), name="left"), K.Input((6, 6, 3), name="right")
    shared = L.Conv2D(4, 1, activation="relu")
    sa, sb = shared(a), shared(b)
    cat = L.Concatenate()([sa, sb, L.Conv2D(2, 3, padding="same")(a)])
    diff = L.Subtract()([sa, sb])
    mixed = L.Multiply()([L.Average()([sa, sb, diff]), sa])
    inner = K.Sequential([K.Input((6, 6, 4)), L.Conv2D(3, 2), L.BatchNormalization(),
                          L.Activation("swish")], name="inner")
    nested = inner(mixed)
    head = L.Dense(2, activation="hard_sigmoid")(L.Reshape((-1,))(nested))
    return K.Model([a, b], [cat, head, nested])


def dense_rank3(K):
    """Dense on [N, 5, F], and a nested Functional block called twice."""
    L = K.layers
    i = K.Input((5, 6))
    block = K.Model(i, L.Dense(6, activation="tanh")(L.BatchNormalization()(i)), name="block")
    x = K.Input((5, 7))
    twice = block(block(L.Dense(6)(x)))
    y = L.Dense(4)(twice)
    y = L.Permute((2, 1))(y)
    y = L.GlobalAveragePooling1D()(y)
    y = L.Rescaling(0.5, offset=0.25)(y)
    return K.Model(x, [L.Softmax()(L.Dense(3, activation="relu")(y)), twice])


def transfer(K):
    """A Functional base model as the first layer of a Sequential."""
    L = K.layers
    i = K.Input((7, 7, 2))
    base = K.Model(i, L.Conv2D(5, 3, strides=2, padding="same", activation="relu")(i))
    return K.Sequential([base, L.GlobalAveragePooling2D(keepdims=True), L.Flatten(),
                         L.Dense(3)])


def upsample(K):
    """UpSampling2D nearest (2x3) and bilinear (2x2, half-pixel centres)."""
    L = K.layers
    x = K.Input((3, 4, 2))
    y = L.Conv2D(3, 1)(x)
    near = L.UpSampling2D((2, 3))(y)
    bilinear = L.UpSampling2D(2, interpolation="bilinear")(L.Conv2D(3, 3, padding="same")(x))
    return K.Model(x, [near, bilinear])


BUILDERS = {f.__name__: f for f in (cnn_with_bn, residual, separable, branches, dense_rank3,
                                    transfer, upsample)}
SAVES = [("tf_keras", ".h5"), ("tf_keras", ".keras"), ("keras", ".keras"), ("keras", ".h5")]


@pytest.mark.parametrize("lib,suffix", SAVES, ids=[f"{a}{b}" for a, b in SAVES])
@pytest.mark.parametrize("build", sorted(BUILDERS))
def test_small_models_equal_keras(libs, tmp_path, build, lib, suffix):
    rng = np.random.default_rng(sorted(BUILDERS).index(build))
    model = BUILDERS[build](libs[lib])
    randomize(model, rng)
    path = tmp_path / f"{build}{suffix}"
    model.save(path)
    graph = load_keras(path)
    for _ in range(2):
        assert_matches_keras(graph, model, random_inputs(graph, rng, -2, 2))
    literal = load_keras(path, cleanup=False)
    assert_matches_keras(literal, model, random_inputs(graph, rng, -2, 2))


def test_batchnorm_folded_and_activations_fused(libs, tmp_path):
    model = cnn_with_bn(libs["tf_keras"])
    model.save(tmp_path / "cnn.h5")
    kinds = [(o.kind, o.attr("activation")) for o in load_keras(tmp_path / "cnn.h5").ops]
    assert kinds == [("CONV_2D", "RELU"), ("MAX_POOL_2D", "NONE"), ("CONV_2D", "RELU6"),
                     ("AVERAGE_POOL_2D", "NONE"), ("RESHAPE", None),
                     ("FULLY_CONNECTED", "NONE"), ("SOFTMAX", None)]
    literal = Counter(o.kind for o in load_keras(tmp_path / "cnn.h5", cleanup=False).ops)
    assert literal["MUL"] == literal["ADD"] == 2 and literal["RELU"] == 1


def test_batchnorm_after_add_stays_mul_add(libs, tmp_path):
    model = residual(libs["tf_keras"])
    randomize(model, np.random.default_rng(3))
    model.save(tmp_path / "res.h5")
    ops = load_keras(tmp_path / "res.h5").ops
    assert [o.kind for o in ops if o.kind in ("CONV_2D", "ADD", "MUL")] == [
        "CONV_2D", "CONV_2D", "ADD", "MUL", "ADD"]
    assert ops[2].attr("activation") == "RELU6"      # ReLU(max_value=6) fused into the ADD


def activations(K):
    L = K.layers
    x = K.Input((4, 6))
    y = L.LeakyReLU()(L.Dense(6)(x))
    y = L.Activation("hard_sigmoid")(y)
    y = L.ReLU(negative_slope=0.1)(L.Dense(5, activation="sigmoid")(y))
    y = L.Dense(5, activation="leaky_relu")(y)
    if K.__name__ == "keras":
        y = L.Dense(4, activation="hard_swish")(y)
    return K.Model(x, L.Dense(3, activation="swish")(y))


@pytest.mark.parametrize("lib", ["tf_keras", "keras"])
def test_activations_equal_keras(libs, tmp_path, lib):
    rng = np.random.default_rng(11)
    model = activations(libs[lib])
    randomize(model, rng)
    model.save(tmp_path / "act.keras")
    graph = load_keras(tmp_path / "act.keras")
    assert_matches_keras(graph, model, random_inputs(graph, rng, -3, 3))
    kinds = {o.kind for o in graph.ops}
    assert {"LEAKY_RELU", "LOGISTIC", "MUL"} <= kinds
    assert ("HARD_SWISH" in kinds) == (lib == "keras")


# --- errors --------------------------------------------------------------------------------------
def custom_layer_model(K, tmp_path):
    class Doubler(K.layers.Layer):
        def call(self, x):
            return 2 * x

    x = K.Input((4,))
    model = K.Model(x, K.layers.Dense(2)(Doubler(name="twice")(x)))
    path = tmp_path / "custom.h5"
    model.save(path)
    return path


def test_custom_layer_is_a_clear_model_error(libs, tmp_path):
    path = custom_layer_model(libs["tf_keras"], tmp_path)
    with pytest.raises(ModelError) as err:
        load_keras(path)
    text = str(err.value)
    for part in ("Doubler", "'twice'", str(path), "supported:", "Conv2D", "Dense"):
        assert part in text


def test_custom_layer_exit_2_through_the_cli(libs, tmp_path):
    proc = fitml("inspect", custom_layer_model(libs["tf_keras"], tmp_path))
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "Doubler" in line and "twice" in line and "custom.h5" in line


def test_lambda_is_refused_before_keras_runs_it(libs, tmp_path):
    """A Lambda's code travels in the file and Keras 2 runs it while loading: never load."""
    K = libs["tf_keras"]
    marker = tmp_path / "ran"

    def touch_and_add(t, path=str(marker)):
        open(path, "w").close()
        return t + 1

    x = K.Input((3,))
    K.Model(x, K.layers.Lambda(touch_and_add, name="plus_one")(x)).save(tmp_path / "l.h5")
    marker.unlink()
    with pytest.raises(ModelError, match=r"plus_one.*Lambda"):
        load_keras(tmp_path / "l.h5")
    assert not marker.exists()


def test_unsupported_activation_names_the_layer(libs, tmp_path):
    K = libs["tf_keras"]
    x = K.Input((3,))
    K.Model(x, K.layers.Dense(2, activation="elu", name="head")(x)).save(tmp_path / "e.h5")
    with pytest.raises(ModelError, match=r"'head' \(Dense\).*activation 'elu'"):
        load_keras(tmp_path / "e.h5")


@pytest.mark.parametrize("name,content", [("junk.h5", b"not hdf5"), ("junk.keras", b"PK no"),
                                          ("missing.h5", None)])
def test_bad_files_are_model_errors(tmp_path, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=name):
        load_keras(path)


def test_weights_only_h5_is_a_model_error(libs, tmp_path):
    model = cnn_with_bn(libs["tf_keras"])
    model.save_weights(tmp_path / "w.h5")
    with pytest.raises(ModelError, match="no model config"):
        load_keras(tmp_path / "w.h5")


def test_unknown_input_dims_need_input_shapes(libs, tmp_path):
    K = libs["tf_keras"]
    x = K.Input((None, None, 3), name="img")
    model = K.Model(x, K.layers.Conv2D(2, 3)(x))
    model.save(tmp_path / "dyn.h5")
    with pytest.raises(ModelError, match="input_shapes"):
        load_keras(tmp_path / "dyn.h5")
    graph = load_keras(tmp_path / "dyn.h5", input_shapes={"img": (1, 7, 5, 3)})
    assert graph.tensors[graph.outputs[0]].shape == (1, 5, 3, 2)


# --- API and CLI ---------------------------------------------------------------------------------
def test_api_load_and_cli_inspect(libs, tmp_path):
    import json

    model = cnn_with_bn(libs["tf_keras"])
    path = tmp_path / "cnn.keras"
    model.save(path)
    assert [o.kind for o in api.load(path).ops] == [o.kind for o in load_keras(path).ops]
    proc = fitml("inspect", path, "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["inputs"][0]["shape"] == [1, 12, 10, 3]
    assert info["outputs"][0]["shape"] == [1, 5]
    assert info["macs"] > 0 and info["params_bytes"] > 0


def test_importing_the_frontend_does_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys, toolchain.api, toolchain.frontends.keras; "
            "print(sorted(m for m in ('tensorflow', 'tf_keras', 'keras', 'h5py') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_missing_tensorflow_says_how_to_install(libs, tmp_path, monkeypatch):
    from types import SimpleNamespace

    import toolchain.frontends.keras as frontend

    def no_keras(name):
        raise ImportError(f"No module named {name!r}")

    cnn_with_bn(libs["tf_keras"]).save(tmp_path / "cnn.h5")
    monkeypatch.setattr(frontend, "importlib", SimpleNamespace(import_module=no_keras))
    with pytest.raises(ModelError, match=r"pip install fitml\[keras\]"):
        load_keras(tmp_path / "cnn.h5")
