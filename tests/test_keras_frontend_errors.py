"""Keras frontend errors and entry points: custom layers, Lambdas (refused before Keras could
run them), unsupported activations, bad or weights-only files and unknown input dims are clear
ModelErrors (exit 2 through the CLI); api.load and `fitml inspect` take .keras files; importing
the frontend does not import TensorFlow, and a missing TensorFlow says how to install it."""
from __future__ import annotations

import pytest

from cli_util import fitml, one_clear_line
from toolchain import api
from toolchain.errors import ModelError
from toolchain.frontends.keras import load_keras
from keras_builders import cnn_with_bn
from keras_builders import libs  # noqa: F401 (fixture)


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
    K.Model(x, K.layers.Dense(2, activation="selu", name="head")(x)).save(tmp_path / "e.h5")
    with pytest.raises(ModelError, match=r"'head' \(Dense\).*activation 'selu'"):
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
