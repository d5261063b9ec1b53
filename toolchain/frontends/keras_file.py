"""Which container a Keras model file is, and the checked model config Keras will load from it.

Keras picks the loader by name: Keras 3 and tf_keras open `*.keras` as a zip when
zipfile.is_zipfile says so (that tolerates data before the zip), and otherwise open the file
as HDF5 when h5py finds the HDF5 signature at byte 0, 512, 1024, 2048, ... (a user block may
precede it). A polyglot (an .h5 with a zip appended) would have fitml check one config while
Keras loads the other. So the format is decided by the magic bytes at offset 0 and must be the
only one: a file that is both a zip and HDF5, HDF5 behind a user block, zip data not at byte 0,
or a suffix that disagrees with the magic is refused.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from ..errors import ModelError
from .h5_check import check_hdf5
from .keras_builder import LAYERS, available
from .zip_check import ZIP_MAGIC, open_zip, read_member

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
SUFFIXES = {".keras": "zip", ".h5": "hdf5", ".hdf5": "hdf5"}
CONFIG_LIMIT = 64 << 20
HINT = "Keras models need TensorFlow: pip install fitml[keras]"
CONTAINERS = ("Functional", "Model", "Sequential")
KERAS_MODULES = ("keras", "tf_keras")
KERAS_PREFIXES = ("keras.", "tf_keras.")


def keras_format(path: Path) -> str:
    """'zip' or 'hdf5', or a ModelError naming the file."""
    expected = SUFFIXES.get(path.suffix.lower())
    if expected is None:
        raise ModelError(f"{path}: a Keras model file must end in .keras (zip) or .h5 (HDF5)")
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            hdf5_at = _hdf5_signatures(f)
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if is_zip and hdf5_at:
        raise ModelError(f"{path}: is both a zip archive and an HDF5 file (HDF5 signature at "
                         f"byte {hdf5_at[0]}); refusing an ambiguous model file")
    if hdf5_at and hdf5_at[0] != 0:
        raise ModelError(f"{path}: HDF5 data starts at byte {hdf5_at[0]} (after a user block); "
                         "fitml reads only HDF5 files that start with the HDF5 signature")
    found = "hdf5" if hdf5_at else "zip" if is_zip else None
    if found is None:
        raise ModelError(f"{path}: not a Keras model file (neither HDF5 nor a .keras zip)")
    if found == "zip" and head[:4] != ZIP_MAGIC:
        raise ModelError(f"{path}: the zip archive does not start at byte 0 (data is "
                         "prepended); refusing an ambiguous model file")
    if found != expected:
        names = {"zip": "a zip archive (.keras)", "hdf5": "an HDF5 file (.h5)"}
        raise ModelError(f"{path}: the name says {names[expected]} but the content is "
                         f"{names[found]}; rename it to match its content")
    return found


def _hdf5_signatures(f) -> list[int]:
    """Offsets where the HDF5 library would find a superblock: 0, then 512, 1024, 2048, ..."""
    f.seek(0, 2)
    size = f.tell()
    found, offset = [], 0
    while offset + len(HDF5_MAGIC) <= size:
        f.seek(offset)
        if f.read(len(HDF5_MAGIC)) == HDF5_MAGIC:
            found.append(offset)
        offset = 512 if offset == 0 else offset * 2
    return found


def file_config(path: Path) -> dict:
    """The model config JSON Keras will load from the file, read without Keras."""
    if keras_format(path) == "zip":
        with open_zip(path, str(path)) as z:
            raw = read_member(z, "config.json", str(path), CONFIG_LIMIT)
    else:
        raw = _hdf5_config(path)
    try:
        cfg = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ModelError(f"{path}: the model config is not valid JSON "
                         f"({type(exc).__name__}: {str(exc)[:100]})") from None
    if not isinstance(cfg, dict):
        raise ModelError(f"{path}: the model config is not a JSON object")
    return cfg


def check_weights(path: Path) -> None:
    """The HDF5 weights Keras will read (the .h5 itself, a .keras zip's model.weights.h5)
    declare no more than the file stores and read no other file (h5_check.py)."""
    if keras_format(path) == "hdf5":
        _need_h5py(path)
        check_hdf5(path, path.stat().st_size, str(path))
        return
    with open_zip(path, str(path)) as z:
        if "model.weights.h5" not in z.namelist():
            return
        data = read_member(z, "model.weights.h5", str(path))
    _need_h5py(path)
    check_hdf5(io.BytesIO(data), len(data), f"{path} (model.weights.h5)")


def _need_h5py(path: Path) -> None:
    try:
        import h5py  # noqa: F401  # lazy: h5py comes with the optional Keras extra
    except ImportError:
        raise ModelError(f"{path}: {HINT}") from None


def _hdf5_config(path: Path):
    try:
        import h5py  # lazy: h5py comes with the optional Keras extra
    except ImportError:
        raise ModelError(f"{path}: {HINT}") from None
    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
    except (OSError, KeyError, ValueError, TypeError) as exc:
        text = str(exc).splitlines()
        raise ModelError(f"{path}: not a Keras model file ({type(exc).__name__}: "
                         f"{text[0][:200] if text else ''})") from None
    if raw is None:
        raise ModelError(f"{path}: no model config in the file (weights only?)")
    return raw


def check_layers(cfg: dict, where: str) -> None:
    """ModelError naming the first layer no converter handles (custom, Lambda, ...) or the
    first object the config would make Keras import from outside Keras."""
    _check_layer_list(cfg, where)
    _check_objects(cfg, where)


def _check_layer_list(cfg: dict, where: str) -> None:
    cls = cfg.get("class_name")
    if cls not in CONTAINERS:
        raise ModelError(f"{where}: model class {cls} is not supported (save a Sequential or "
                         "Functional model)")
    supported = available(LAYERS)
    inner = cfg.get("config")
    layers = inner.get("layers", []) if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        raise ModelError(f"{where}: the model config has no layer list")
    for entry in layers:
        if not isinstance(entry, dict) or not isinstance(entry.get("config", {}), dict):
            raise ModelError(f"{where}: the model config has a malformed layer entry")
        cls, name = entry.get("class_name"), entry.get("config", {}).get("name")
        module = str(entry.get("module") or "keras")
        if cls in CONTAINERS:
            _check_layer_list(entry, where)
        elif cls != "InputLayer" and (cls not in supported or not module.startswith(
                ("keras", "tf_keras"))):
            raise ModelError(f"{where}: layer {name!r} of class {cls} is not supported "
                             f"(custom layers and Lambda cannot be converted); supported: "
                             f"{', '.join(supported)}")


def _check_objects(cfg: dict, where: str) -> None:
    """Every serialized object (layer, initializer, regularizer, ...) must come from Keras:
    tf_keras imports whatever `module` a config names (even `builtins`, handing out eval), and
    `__lambda__` carries bytecode."""
    stack = [cfg]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            module = v.get("module")
            if v.get("class_name") == "__lambda__" or not (module is None or (
                    isinstance(module, str) and (module in KERAS_MODULES
                                                 or module.startswith(KERAS_PREFIXES)))):
                raise ModelError(f"{where}: object {v.get('class_name')!r} from module "
                                 f"{module!r} is not supported (only Keras' own layers, "
                                 "initializers and regularizers are read)")
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
