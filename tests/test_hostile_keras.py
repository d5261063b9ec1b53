"""Hostile Keras files the fuzzer found (issue #13), through the real `fitml` CLI: weight
datasets that declare gigabytes the file does not store (tf_keras allocated them), HDF5 data
read from other files, and Functional configs whose wiring made tf_keras loop forever (a layer
never called, a cycle, a self-reference, a call that never happens). Each must end in exit 2
and one stderr line naming the file and the dataset or layer, quickly and in little memory.
Every hostile file is generated here from a valid model."""
from __future__ import annotations

import io
import json
import shutil
import zipfile

import h5py
import numpy as np
import pytest

from cli_util import fitml
from fuzz_seeds import make_h5, make_keras
from test_hostile_numbers import refused

pytest.importorskip("tf_keras")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """A valid .h5 (tf_keras) and .keras (Keras 3): x -> Conv2D conv -> Flatten -> Dense fc."""
    folder = tmp_path_factory.mktemp("keras_seeds")
    make_h5(folder / "seed.h5")
    make_keras(folder / "seed.keras")
    return folder


def _h5_copy(seeds, tmp_path, name: str, edit):
    path = tmp_path / name
    shutil.copy(seeds / "seed.h5", path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def _huge(f, name="model_weights/conv/conv/bias:0"):
    """The fuzzer's mutation: 2**31 float32 declared, one chunk of fill value stored."""
    del f[name]
    f.create_dataset(name, shape=(2**31,), dtype="f4", chunks=(1024,), fillvalue=1)


def _external_link(f):
    del f["model_weights/conv/conv/bias:0"]
    f["model_weights/conv/conv"]["bias:0"] = h5py.ExternalLink("/etc/passwd", "/x")


def _external_storage(f, tmp_path):
    name = "model_weights/conv/conv/bias:0"
    del f[name]
    (tmp_path / "raw.bin").write_bytes(np.zeros(4, np.float32).tobytes())
    f.create_dataset(name, shape=(4,), dtype="f4", external=[(str(tmp_path / "raw.bin"), 0,
                                                                 16)])


@pytest.mark.parametrize("case", ["huge", "external link", "external storage"])
def test_h5_weights_the_file_does_not_hold_are_refused(seeds, tmp_path, case):
    edit = {"huge": _huge, "external link": _external_link,
            "external storage": lambda f: _external_storage(f, tmp_path)}[case]
    bad = _h5_copy(seeds, tmp_path, "bad.h5", edit)
    err = refused(fitml("inspect", bad, timeout=120), str(bad))
    assert {"huge": "declares", "external link": "external",
            "external storage": "external files"}[case] in err, err
    assert "bias:0" in err, err


def test_huge_dataset_inside_a_keras_zip_is_refused(seeds, tmp_path):
    with zipfile.ZipFile(seeds / "seed.keras") as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    weights = io.BytesIO(members["model.weights.h5"])
    with h5py.File(weights, "r+") as f:
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        _huge(f, names[0])
    members["model.weights.h5"] = weights.getvalue()
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(bad, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    refused(fitml("inspect", bad, timeout=120), str(bad), "model.weights.h5", "declares")


def _rewire(layer: str, nodes):
    def edit(cfg):
        entry = next(e for e in cfg["config"]["layers"] if e["name"] == layer)
        entry["inbound_nodes"] = nodes
    return edit


WIRING = {   # edit of the model config -> words the error must hold
    "never called": (_rewire("flatten", []), ("'flatten'", "never called")),
    "self reference": (_rewire("conv", [[["conv", 0, 0, {}]]]), ("'conv'", "never makes")),
    "cycle": (lambda c: (_rewire("conv", [[["flatten", 0, 0, {}]]])(c),
                         _rewire("flatten", [[["conv", 0, 0, {}]]])(c)), ("never makes",)),
    "call never made": (_rewire("fc", [[["flatten", 3, 0, {}]]]), ("'fc'", "call 3")),
    "index not a number": (_rewire("fc", [[["flatten", "0", 0, {}]]]), ("'fc'", "integers")),
    "unknown layer": (_rewire("fc", [[["nope", 0, 0, {}]]]), ("'fc'", "'nope'")),
    "ref hidden in a dict": (_rewire("fc", [{"a": ["flatten", 5, 0]}]), ("'fc'", "never")),
    "unknown output": (lambda c: c["config"].__setitem__("output_layers", [["nope", 0, 0]]),
                       ("'nope'",)),
}


@pytest.mark.parametrize("case", sorted(WIRING))
def test_functional_wiring_that_would_hang_tf_keras_is_refused(seeds, tmp_path, case):
    edit, needles = WIRING[case]

    def rewrite(f):
        cfg = json.loads(f.attrs["model_config"])
        edit(cfg)
        f.attrs["model_config"] = json.dumps(cfg).encode()
    bad = _h5_copy(seeds, tmp_path, "wired.h5", rewrite)
    refused(fitml("inspect", bad, timeout=120), str(bad), *needles)


def test_seeds_still_load(seeds):
    for name in ("seed.h5", "seed.keras"):
        proc = fitml("inspect", seeds / name, timeout=300)
        assert proc.returncode == 0, proc.stderr


def test_wiring_nested_past_the_recursion_limit_is_refused():
    """A config nested deeper than Python's recursion limit (built in memory: the JSON decoder
    stops such text first) is a ModelError, not a RecursionError."""
    from toolchain.errors import ModelError
    from toolchain.frontends.keras_wiring import check_wiring
    outer = inner = []
    for _ in range(5000):
        inner.append([])
        inner = inner[0]
    layers = [{"class_name": "InputLayer", "name": "in", "config": {"name": "in"},
               "inbound_nodes": []},
              {"class_name": "Dense", "name": "d", "config": {"name": "d"},
               "inbound_nodes": [outer]}]
    cfg = {"class_name": "Functional", "config": {
        "layers": layers, "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]]}}
    with pytest.raises(ModelError, match="nests too deeply"):
        check_wiring(cfg, "m.h5")
