"""Sanity checks for an HDF5 weights file (Keras .h5, a .keras zip's model.weights.h5) before
Keras reads it: walked with h5py, reading no data.

A dataset's shape is a declaration: HDF5 fills unwritten chunks with the fill value, so a file
of a few kilobytes can declare 2**31 floats that tf_keras then allocates. Each dataset's
declared bytes must be backed by what the file stores (times a compression ratio for filtered
datasets), and all of them together stay under a total. HDF5 can also read data from other
files (external links, external raw storage, virtual datasets): refused, like any object
count or attribute beyond reason.
"""
from __future__ import annotations

from typing import Any

from ..errors import ModelError

MAX_TOTAL_BYTES = 1 << 30    # declared bytes of all datasets: far beyond any Cortex-M model
MAX_RATIO = 200              # declared / stored bytes of a compressed (filtered) dataset
SLACK = 64 << 10             # small datasets may be held in the fill value alone
MAX_OBJECTS = 100_000


def check_hdf5(source: Any, size: int, where: str) -> None:
    """ModelError naming `where` and the object unless every dataset's declared size is backed
    by the file's `size` bytes and nothing refers outside the file. `source`: a path or a
    binary file object h5py can open."""
    import h5py  # lazy: h5py comes with the optional Keras extra

    try:
        with h5py.File(source, "r") as f:
            _walk(h5py, f, size, where)
    except ModelError:
        raise
    except Exception as exc:  # h5py raises OSError, KeyError, ValueError, ... on corrupt files
        text = str(exc).splitlines()
        raise ModelError(f"{where}: not a readable HDF5 file ({type(exc).__name__}: "
                         f"{text[0][:200] if text else ''})") from None


def _walk(h5py, f, size: int, where: str) -> None:
    """Raise the first problem; the visitors return it (a value stops h5py's visit), as an
    exception must not cross h5py's C callbacks."""
    state = {"objects": 0, "declared": 0}

    def link(name: str, info):
        if not isinstance(info, (h5py.HardLink, h5py.SoftLink)):
            return ModelError(f"{where}: HDF5 object {name!r} is an external or user-defined "
                              "link (it reads another file); refused")
        return None

    def visit(name: str, obj):
        state["objects"] += 1
        if state["objects"] > MAX_OBJECTS:
            return ModelError(f"{where}: more than {MAX_OBJECTS} HDF5 objects")
        try:
            _check_attrs(obj, name, size, where)
            if isinstance(obj, h5py.Dataset):
                state["declared"] += _check_dataset(obj, name, size, where)
        except ModelError as exc:
            return exc
        if state["declared"] > MAX_TOTAL_BYTES:
            return ModelError(f"{where}: the HDF5 datasets declare more than "
                              f"{MAX_TOTAL_BYTES >> 20} MiB in all (at {name!r})")
        return None

    _check_attrs(f, "/", size, where)
    for problem in (f.visititems_links(link), f.visititems(visit)):
        if problem is not None:
            raise problem


def _check_dataset(d, name: str, size: int, where: str) -> int:
    """The declared bytes of dataset `d`, after refusing storage outside the file or declared
    sizes the file cannot back."""
    what = f"{where}: HDF5 dataset {name!r}"
    if d.is_virtual:
        raise ModelError(f"{what} is a virtual dataset (it reads other files); refused")
    if d.external:
        raise ModelError(f"{what} stores its data in external files; refused")
    declared = _count(d.shape) * d.dtype.itemsize
    stored = min(int(d.id.get_storage_size()), size)
    ratio = MAX_RATIO if _filtered(d) else 1
    if declared > stored * ratio + SLACK:
        shape = "x".join(map(str, d.shape)) or "scalar"
        raise ModelError(f"{what} declares {shape} {d.dtype} = {declared:,} bytes but the file "
                         f"stores {stored:,} bytes for it; refusing a truncated or "
                         "inflated dataset")
    return declared


def _filtered(d) -> bool:
    try:
        return d.id.get_create_plist().get_nfilters() > 0
    except Exception:
        return False


def _check_attrs(obj, name: str, size: int, where: str) -> None:
    """Attributes are read whole: none may declare more bytes than the file holds."""
    attrs = obj.attrs
    for key in attrs.keys():
        aid = attrs.get_id(key)
        declared = _count(aid.shape) * aid.dtype.itemsize
        if declared > size + SLACK:
            raise ModelError(f"{where}: HDF5 attribute {key!r} of {name!r} declares "
                             f"{declared:,} bytes, more than the file's {size:,}")


def _count(shape) -> int:
    count = 1
    for d in shape or ():
        count *= int(d)
    return count
