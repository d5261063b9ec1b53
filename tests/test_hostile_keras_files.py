"""Hostile Keras files: fitml refuses them in one line without running their code: an .h5 with a
zip appended, a zip with an HDF5 file behind a user block (polyglots two readers see
differently), a suffix that does not match the content, corrupt configs, a config naming an
object from outside Keras. A Lambda payload writes a marker file; after fitml refuses, the test
feeds the same file to tf_keras and checks the marker appears, so each test can fail."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from cli_util import fitml, one_clear_line
from toolchain.errors import ModelError
from hostile_files import assert_live, rewrite


@pytest.fixture
def tf_keras():
    return pytest.importorskip("tf_keras")


def lambda_h5(K, tmp_path, marker):
    """A Keras 2 .h5 whose Lambda writes `marker` when Keras rebuilds the model."""
    def touch_and_add(t, path=str(marker)):
        open(path, "w").close()
        return t + 1

    x = K.Input((3,))
    path = tmp_path / "lambda.h5"
    K.Model(x, K.layers.Lambda(touch_and_add, name="plus_one")(x)).save(path)
    marker.unlink()
    return path


def harmless_zip(K, tmp_path) -> bytes:
    """A small zip holding the config.json of a plain Dense model."""
    K.Sequential([K.Input((3,)), K.layers.Dense(2)]).save(tmp_path / "dense.keras")
    with zipfile.ZipFile(tmp_path / "dense.keras") as z:
        config = z.read("config.json")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", config)
    return buf.getvalue()


def test_h5_with_a_zip_appended_is_refused(tmp_path, tf_keras):
    h5py = pytest.importorskip("h5py")
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.h5"
    bad.write_bytes(lambda_h5(tf_keras, tmp_path, marker).read_bytes()
                    + harmless_zip(tf_keras, tmp_path))
    assert zipfile.is_zipfile(bad) and h5py.is_hdf5(bad)
    proc = fitml("inspect", bad)
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "evil.h5" in line and "both a zip archive and an HDF5 file" in line
    assert not marker.exists()
    assert_live(marker, lambda: tf_keras.models.load_model(str(bad), compile=False))


def test_zip_with_hdf5_behind_a_user_block_is_refused(tmp_path, tf_keras):
    """A zip at byte 0 whose tail is an HDF5 file with a 2048-byte user block: zipfile and
    h5py both accept it, and tf_keras opens it as HDF5 under any name but `*.keras`."""
    from toolchain.frontends.keras import load_keras

    h5py = pytest.importorskip("h5py")
    marker = tmp_path / "pwned"
    src, blocked = lambda_h5(tf_keras, tmp_path, marker), tmp_path / "blocked.h5"
    with h5py.File(src, "r") as f, h5py.File(blocked, "w", userblock_size=2048) as g:
        g.attrs.update(f.attrs)
        for key in f:
            f.copy(key, g)
    data = bytearray(blocked.read_bytes())
    head = harmless_zip(tf_keras, tmp_path)
    data[:len(head)] = head
    bad = tmp_path / "evil.KERAS"
    bad.write_bytes(bytes(data))
    assert zipfile.is_zipfile(bad) and h5py.is_hdf5(bad)
    with pytest.raises(ModelError, match="evil.KERAS: is both a zip archive and an HDF5 file"):
        load_keras(bad)
    assert not marker.exists()
    assert_live(marker, lambda: tf_keras.models.load_model(str(bad), compile=False))


def test_suffix_must_match_the_content(tmp_path, tf_keras):
    from toolchain.frontends.keras import load_keras

    tf_keras.Sequential([tf_keras.Input((3,)), tf_keras.layers.Dense(2)]).save(tmp_path / "a.h5")
    (tmp_path / "a.keras").write_bytes((tmp_path / "a.h5").read_bytes())
    with pytest.raises(ModelError, match=r"a.keras: the name says a zip archive .* is an HDF5"):
        load_keras(tmp_path / "a.keras")
    (tmp_path / "b.h5").write_bytes(harmless_zip(tf_keras, tmp_path))
    with pytest.raises(ModelError, match=r"b.h5: the name says an HDF5 file .* is a zip"):
        load_keras(tmp_path / "b.h5")


def _h5_with_config(tmp_path, text: str):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "broken.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = text
    return path


def _keras_with_config(tmp_path, text: str):
    path = tmp_path / "broken.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", text)
    return path


@pytest.mark.parametrize("write", [_h5_with_config, _keras_with_config], ids=["h5", "keras"])
@pytest.mark.parametrize("text", ['{"class_name": "Functional", "config": {"layers": [',
                                  '["not", "an", "object"]',
                                  '{"class_name": "Sequential", "config": {"layers": [7]}}'])
def test_corrupt_keras_config_is_one_line(tmp_path, write, text):
    proc = fitml("inspect", write(tmp_path, text))
    assert proc.returncode == 2
    assert "broken." in one_clear_line(proc)


def test_config_object_from_outside_keras_is_refused(tmp_path, tf_keras):
    """tf_keras imports the module a .keras config names (here builtins.eval)."""
    from toolchain.frontends.keras import load_keras

    tf_keras.Sequential([tf_keras.Input((3,)), tf_keras.layers.Dense(2)]).save(tmp_path / "d.keras")

    def evil_initializer(name, data):
        if name != "config.json":
            return data
        cfg = json.loads(data)
        dense = cfg["config"]["layers"][-1]["config"]
        dense["kernel_initializer"] = {"module": "builtins", "class_name": "function",
                                       "config": "eval", "registered_name": "function"}
        return json.dumps(cfg).encode()
    bad = rewrite(tmp_path / "d.keras", tmp_path / "evil.keras", evil_initializer)
    with pytest.raises(ModelError, match=r"evil.keras: object 'function' from module 'builtins'"):
        load_keras(bad)
