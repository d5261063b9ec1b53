""".npy / .npz files given by the user (inputs, calibration, validation, training data).

Such files are untrusted like models: an .npy header can claim 285 TiB in a 100-byte file and
`np.load` allocates before it reads, an empty file raises EOFError, object arrays would need
unpickling. `load_arrays` reads the header first and checks the claimed byte count against
the bytes really there before anything is allocated; numeric arrays only, never pickles.
Every problem is a UsageError naming the file.
"""
from __future__ import annotations

import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from ..errors import UsageError

NUMERIC_KINDS = "biuf"         # bool, signed/unsigned integers, floats
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
MAX_NPZ_BYTES = 4 << 30        # decompressed bytes of all .npz members (zip bombs)
READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error,
               NotImplementedError, RuntimeError)


class _Bad(Exception):
    """A problem with the file, turned into one UsageError by `load_arrays`."""


def load_arrays(path, what: str = "array") -> np.ndarray | dict[str, np.ndarray]:
    """The array of an .npy file, or {name: array} (in file order) of an .npz file.

    what: the role of the file in messages ("input array", "calibration array", ...).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise _Bad("is a directory")
        if size == 0:
            raise _Bad("empty file (expected an .npy or .npz array file)")
        with open(path, "rb") as f:
            magic = f.read(4)
            f.seek(0)
            if magic in ZIP_MAGICS:
                return _read_npz(f)
            return _read_npy(f, size)
    except FileNotFoundError:
        raise UsageError(f"{path}: cannot read {what}: no such file") from None
    except _Bad as exc:
        raise UsageError(f"{path}: cannot read {what}: {exc}") from None
    except READ_ERRORS as exc:
        raise UsageError(f"{path}: cannot read {what}: {type(exc).__name__}: {exc}") from None


def _header(f) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of the .npy stream at f, checked; f is left at the data."""
    try:
        version = npy_format.read_magic(f)
    except ValueError:
        raise _Bad("not an .npy or .npz array file (bad magic)") from None
    readers = {(1, 0): npy_format.read_array_header_1_0,
               (2, 0): npy_format.read_array_header_2_0}
    if version not in readers:
        raise _Bad(f".npy format version {version[0]}.{version[1]} is not supported "
                   "(1.0 and 2.0 are)")
    try:
        with warnings.catch_warnings():   # numpy warns about Python 2 headers on stderr
            warnings.simplefilter("ignore")
            shape, fortran, dtype = readers[version](f)
    except Exception as exc:   # ValueError, SyntaxError, tokenize.TokenError, ...
        raise _Bad(f"corrupt .npy header ({type(exc).__name__}: {exc})") from None
    if dtype.hasobject or dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
        raise _Bad(f"dtype {dtype} is not supported (numeric arrays only: bool, int, uint, "
                   "float; object arrays are never unpickled)")
    return tuple(int(d) for d in shape), fortran, dtype


def _claimed_bytes(shape, dtype: np.dtype) -> int:
    count = 1
    for d in shape:   # Python ints: no overflow however large the claim
        count *= d
    return count * dtype.itemsize


def _human(n: int) -> str:
    """A byte count for messages: 512 bytes, 3.0 KiB, ..., 285.0 TiB."""
    if n < 1024:
        return f"{n} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        n /= 1024
        if n < 1024 or unit == "PiB":
            return f"{n:,.1f} {unit}"
    raise AssertionError


def _read_npy(f, available: int) -> np.ndarray:
    """One .npy array from stream f holding `available` bytes from its current position."""
    start = f.tell()
    shape, _, dtype = _header(f)
    claimed = _claimed_bytes(shape, dtype)
    there = available - (f.tell() - start)
    if claimed > there:
        raise _Bad(f"header claims shape {list(shape)} {dtype} ({_human(claimed)}) but only "
                   f"{_human(max(there, 0))} of data follow (truncated or corrupt)")
    f.seek(start)
    return npy_format.read_array(f, allow_pickle=False)


def _read_npz(f) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(f) as z:
        members = z.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_NPZ_BYTES:
            raise _Bad(f"members decompress to {_human(total)}, more than "
                       f"{_human(MAX_NPZ_BYTES)} (a zip bomb?)")
        arrays = {}
        for m in members:
            if not m.filename.endswith(".npy"):
                raise _Bad(f"member {m.filename!r} is not an .npy array")
            with z.open(m) as member:
                try:
                    arrays[m.filename[:-4]] = _read_npy(member, m.file_size)
                except _Bad as exc:
                    raise _Bad(f"member {m.filename!r}: {exc}") from None
        return arrays
