"""Structure-aware Keras mutators: .h5 files edited with h5py in memory (model_config JSON,
attributes, weight dataset shapes, dtypes and values), .keras zips edited member by member
(config.json, metadata.json, the model.weights.h5 inside), and a smuggled Lambda layer whose
code would create a marker file if any loader ran it."""
from __future__ import annotations

import base64
import io
import json
import marshal
import random
import tempfile
from pathlib import Path

import h5py
import numpy as np

from fuzz_mut_json import mutate_json
from fuzz_mutators import Skip
from fuzz_mut_zip import ZIP_DAMAGE, read_members, write_members


def _h5_edit(data: bytes, fn):
    bio = io.BytesIO(data)
    try:
        f = h5py.File(bio, "r+")
    except Exception:
        raise Skip from None
    try:
        with f:
            what = fn(f)
    except (OSError, ValueError, TypeError):   # e.g. an attribute over HDF5's 64 KiB limit
        raise Skip from None
    return bio.getvalue(), what


def _datasets(f) -> list[str]:
    names = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    if not names:
        raise Skip
    return names


def _dataset_edit(f, rng: random.Random) -> str:
    name = rng.choice(_datasets(f))
    old = f[name]
    values, dtype = old[()], old.dtype
    how = rng.choice(("shape", "dtype", "scalar", "huge", "delete", "nan", "values"))
    del f[name]
    if how == "shape":
        f.create_dataset(name, data=np.resize(values, (values.size + rng.choice((-1, 1)),)))
    elif how == "dtype":
        new = rng.choice(("int8", "float64", "complex64", "S4", "bool"))
        f.create_dataset(name, data=np.asarray(values).astype(new))
    elif how == "scalar":
        f.create_dataset(name, data=np.float32(1))
    elif how == "huge":   # declared 8 GiB, stored as one tiny chunk of fill value
        f.create_dataset(name, shape=(2**31,), dtype="f4", chunks=(1024,), fillvalue=1)
    elif how == "nan":
        f.create_dataset(name, data=np.full_like(values, np.nan))
    elif how == "values":
        f.create_dataset(name, data=np.random.default_rng(rng.randrange(2**32)).normal(
            0, 1e6, np.shape(values)).astype(dtype))
    return f"dataset {name} {how} (was {dtype}{list(np.shape(values))})"


def _config_edit(f, rng: random.Random) -> str:
    raw = f.attrs.get("model_config")
    if raw is None:
        raise Skip
    text, what = mutate_json(raw if isinstance(raw, bytes) else raw.encode(), rng)
    f.attrs["model_config"] = np.bytes_(text) if text else np.bytes_(b" ")
    return f"model_config {what}"


def _attrs_edit(f, rng: random.Random) -> str:
    how = rng.choice(("drop config", "keras_version", "backend", "layer_names",
                      "weight_names"))
    if how == "drop config":
        del f.attrs["model_config"]
    elif how in ("keras_version", "backend"):
        f.attrs[how] = rng.choice(("1.0.0", "99", "theano", ""))
    else:
        group = f["model_weights"] if "model_weights" in f else f
        if how == "layer_names" and "layer_names" in group.attrs:
            names = [bytes(n) if not isinstance(n, str) else n.encode()
                     for n in group.attrs["layer_names"]]
            group.attrs["layer_names"] = np.array([b"nonexistent"] + names, dtype="S")
        else:
            layer = rng.choice(list(group.keys()) or [None])
            if layer is None or not isinstance(group[layer], h5py.Group):
                raise Skip
            group[layer].attrs["weight_names"] = np.array([b"nonexistent/kernel:0"], dtype="S")
    return f"attrs {how}"


def _marker(rng: random.Random) -> str:
    return str(Path(tempfile.gettempdir()) / f"fitml-fuzz-exec-{rng.randrange(2**32):08x}")


def _lambda_code(marker: str) -> str:
    source = f"lambda x: (__import__('os').makedirs({marker!r}, exist_ok=True), x)[1]"
    code = next(c for c in compile(source, "<fuzz>", "eval").co_consts
                if hasattr(c, "co_code"))
    return base64.b64encode(marshal.dumps(code)).decode()


def smuggle_lambda(cfg: dict, rng: random.Random, keras3: bool) -> tuple[str, str]:
    """Insert a Lambda layer (top level, or inside a nested Sequential) between the first two
    layers of a Functional config; returns (description, marker path)."""
    layers = cfg.get("config", {}).get("layers") or []
    if len(layers) < 2 or "input_layers" not in cfg.get("config", {}):
        raise Skip
    marker = _marker(rng)
    code = _lambda_code(marker)
    fn = ({"class_name": "__lambda__", "config": {"code": code, "defaults": None,
                                                  "closure": None, "value": [code, None, None]}}
          if keras3 else [code, None, None])
    lam = {"class_name": "Lambda", "config": {
        "name": "smuggled", "trainable": True, "dtype": "float32", "function": fn,
        "function_type": "lambda", "module": "keras.layers", "output_shape": None,
        "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}}
    if keras3:
        lam["module"] = "keras.layers"
    where = rng.choice(("top level", "nested Sequential", "renamed class"))
    if where == "nested Sequential":
        lam = {"class_name": "Sequential", "module": "keras", "config": {
            "name": "smuggled", "layers": [lam]}}
    elif where == "renamed class":
        lam["class_name"] = "Activation"
        lam["config"]["activation"] = fn
    first, second = layers[0], layers[1]
    lam["name"] = "smuggled"
    lam["inbound_nodes"] = second.get("inbound_nodes")
    second["inbound_nodes"] = json.loads(json.dumps(second.get("inbound_nodes")).replace(
        json.dumps(first.get("name")), '"smuggled"'))
    layers.insert(1, lam)
    return f"Lambda smuggled ({where})", marker


def _h5_lambda(data: bytes, rng: random.Random):
    out = {}

    def edit(f):
        cfg = json.loads(f.attrs["model_config"])
        what, out["marker"] = smuggle_lambda(cfg, rng, keras3=False)
        f.attrs["model_config"] = json.dumps(cfg).encode()
        return what
    new, what = _h5_edit(data, edit)
    return new, what, False, out["marker"]


def _h5_mutator(fn):
    def mutator(data: bytes, rng: random.Random):
        new, what = _h5_edit(data, lambda f: fn(f, rng))
        return new, what, what.split(" (")[0].endswith(("nan", "values"))
    mutator.__name__ = fn.__name__.lstrip("_")
    mutator.__module__ = __name__
    return mutator


def _h5_lambda_named():
    _h5_lambda.__name__ = "lambda"
    _h5_lambda.__module__ = __name__
    return _h5_lambda


H5_MUTATORS = (_h5_mutator(_config_edit), _h5_mutator(_config_edit),
               _h5_mutator(_config_edit), _h5_mutator(_dataset_edit),
               _h5_mutator(_dataset_edit), _h5_mutator(_attrs_edit), _h5_lambda_named())


# --- .keras (zip: config.json, metadata.json, model.weights.h5) ---------------------------
def keras_member_json(data: bytes, rng: random.Random):
    members = read_members(data)
    name = rng.choice(("config.json", "config.json", "metadata.json"))
    if name not in members:
        raise Skip
    members[name], what = mutate_json(members[name], rng)
    return write_members(members), f"{name}: {what}", False


def keras_weights(data: bytes, rng: random.Random):
    members = read_members(data)
    if "model.weights.h5" not in members:
        raise Skip
    members["model.weights.h5"], what = _h5_edit(members["model.weights.h5"],
                                                 lambda f: _dataset_edit(f, rng))
    return write_members(members), f"model.weights.h5 {what}", what.split(" (")[0].endswith(
        ("nan", "values"))


def keras_lambda(data: bytes, rng: random.Random):
    members = read_members(data)
    cfg = json.loads(members["config.json"])
    what, marker = smuggle_lambda(cfg, rng, keras3=True)
    members["config.json"] = json.dumps(cfg).encode()
    return write_members(members), what, False, marker


for _fn in (keras_member_json, keras_weights, keras_lambda):
    _fn.__module__ = __name__
KERAS_MUTATORS = (keras_member_json, keras_member_json, keras_member_json, keras_weights,
                  keras_weights, keras_lambda) + ZIP_DAMAGE


def h5_weight_ranges(data: bytes) -> list[tuple[int, int]]:
    """File offsets of every contiguous dataset's bytes."""
    ranges = []
    with h5py.File(io.BytesIO(data), "r") as f:
        for name in _datasets(f):
            offset = f[name].id.get_offset()
            if offset is not None:
                ranges.append((offset, offset + f[name].id.get_storage_size()))
    return ranges
