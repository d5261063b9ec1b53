"""Zip-level mutators (.keras and .pt2 are zip archives) and the .pt2 member mutators.

Zip damage: a header field (compression method, CRC, sizes, name length, offsets) set to an
edge value, members dropped, truncated or replaced, path-traversal member names, a 3 GiB
zero "bomb" member. .pt2: the JSON members (graph, weights config), the raw weight members,
version/byteorder members, and pickles whose unpickling would create a marker file (torch
unpickles `use_pickle` weights and the sample inputs with weights_only=False)."""
from __future__ import annotations

import functools
import io
import os
import pickle
import random
import struct
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from fuzz_mut_json import mutate_json
from fuzz_mutators import Skip

# (signature, {field: (offset, struct format)}) for local headers, central directory, EOCD
RECORDS = {
    b"PK\x03\x04": {"method": (8, "<H"), "crc": (14, "<I"), "compressed": (18, "<I"),
                    "size": (22, "<I"), "name length": (26, "<H"), "extra length": (28, "<H")},
    b"PK\x01\x02": {"method": (10, "<H"), "crc": (16, "<I"), "compressed": (20, "<I"),
                    "size": (24, "<I"), "name length": (28, "<H"), "extra length": (30, "<H"),
                    "local offset": (42, "<I")},
    b"PK\x05\x06": {"entries": (10, "<H"), "directory size": (12, "<I"),
                    "directory offset": (16, "<I"), "comment length": (20, "<H")},
}


def read_members(data: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {name: z.read(name) for name in z.namelist()}
    except Exception:
        raise Skip from None


def write_members(members: dict[str, bytes]) -> bytes:
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    return bio.getvalue()


def zip_header(data: bytes, rng: random.Random):
    sig = rng.choice(list(RECORDS))
    spots = [i for i in range(len(data)) if data.startswith(sig, i)]
    if not spots:
        raise Skip
    pos = rng.choice(spots)
    field = rng.choice(sorted(RECORDS[sig]))
    offset, fmt = RECORDS[sig][field]
    size = struct.calcsize(fmt)
    if pos + offset + size > len(data):
        raise Skip
    value = rng.choice((0, 1, 8, 12, 99, 0xFFFF, 0xFFFFFFFF, 0x7FFFFFFF)) & \
        (0xFFFF if size == 2 else 0xFFFFFFFF)
    buf = bytearray(data)
    buf[pos + offset:pos + offset + size] = struct.pack(fmt, value)
    return bytes(buf), f"{sig[2:].hex()} record at {pos}: {field} -> {value}", False


def zip_members(data: bytes, rng: random.Random):
    members = read_members(data)
    name = rng.choice(sorted(members))
    how = rng.choice(("drop", "truncate", "junk", "empty", "traversal", "duplicate", "bomb"))
    if how == "drop":
        del members[name]
    elif how == "truncate":
        members[name] = members[name][: rng.randrange(max(len(members[name]), 1))]
    elif how == "junk":
        members[name] = bytes(rng.randrange(256) for _ in range(64))
    elif how == "empty":
        members[name] = b""
    elif how == "traversal":
        members[f"../../{Path(name).name}"] = members.pop(name)
    elif how == "bomb":
        return _bomb(members, name), f"{name}: 3 GiB deflated zeros", False
    out = write_members(members)
    if how == "duplicate":
        bio = io.BytesIO(out)
        with zipfile.ZipFile(bio, "a") as z, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z.writestr(name, b"{}")
        out = bio.getvalue()
    return out, f"member {name} {how}", False


@functools.lru_cache(maxsize=1)
def _zeros_block() -> bytes:
    """16 MiB of zeros as one raw deflate block; the dictionary is reset after it, so the
    block can be repeated to make any multiple of 16 MiB."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(bytes(1 << 24)) + c.flush(zlib.Z_FULL_FLUSH)


def _bomb(members: dict[str, bytes], name: str) -> bytes:
    """The archive by hand, `name` holding 3 GiB of deflated zeros (zip64 sizes, CRC 0)."""
    out, central = bytearray(), bytearray()
    for member, data in members.items():
        key, offset = member.encode(), len(out)
        if member == name:
            method, size, crc = 8, 3 << 30, 0
            data = _zeros_block() * 192 + b"\x03\x00"   # + an empty final block
        else:
            method, size, crc = 0, len(data), zlib.crc32(data)
        big = size >= 0xFFFFFFFF or method == 8
        extra = struct.pack("<HHQQ", 1, 16, size, len(data)) if big else b""
        sizes = (0xFFFFFFFF, 0xFFFFFFFF) if big else (len(data), size)
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, method, 0, 0x21, crc,
                           *sizes, len(key), len(extra)) + key + extra + data
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, 0, method, 0,
                               0x21, crc, *sizes, len(key), len(extra), 0, 0, 0, 0,
                               offset) + key + extra
    return bytes(out + central + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members),
                                             len(members), len(central), len(out), 0))


for _fn in (zip_header, zip_members):
    _fn.__module__ = __name__
ZIP_DAMAGE = (zip_header, zip_header, zip_members, zip_members)


# --- .pt2 ---------------------------------------------------------------------------------
def _find(members: dict, suffix: str) -> str:
    names = [n for n in members if n.endswith(suffix)]
    if not names:
        raise Skip
    return names[0]


def pt2_json(data: bytes, rng: random.Random):
    members = read_members(data)
    name = _find(members, rng.choice(("models/model.json", "models/model.json",
                                      "weights/model_weights_config.json",
                                      "constants/model_constants_config.json")))
    members[name], what = mutate_json(members[name], rng)
    return write_members(members), f"{name.split('/', 1)[1]}: {what}", False


def pt2_weights(data: bytes, rng: random.Random):
    members = read_members(data)
    names = sorted(n for n in members if "/data/weights/weight_" in n)
    if not names:
        raise Skip
    name = rng.choice(names)
    raw = members[name]
    how = rng.choice(("truncate", "extend", "empty", "values", "nan"))
    if how == "truncate":
        members[name] = raw[: rng.randrange(max(len(raw), 1))]
    elif how == "extend":
        members[name] = raw + raw
    elif how == "empty":
        members[name] = b""
    elif how == "values":
        members[name] = np.random.default_rng(rng.randrange(2**32)).integers(
            0, 256, len(raw), dtype=np.uint8).tobytes()
    else:
        members[name] = np.full(len(raw) // 4, np.nan, np.float32).tobytes()
    return write_members(members), f"{name.split('/', 1)[1]} {how}", how in ("values", "nan")


class _Exec:
    """Unpickling this runs os.makedirs(marker): the proof that a loader ran file code."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return os.makedirs, (self.marker, 0o755, True)


def pt2_pickle(data: bytes, rng: random.Random):
    members = read_members(data)
    marker = str(Path(tempfile.gettempdir()) / f"fitml-fuzz-exec-{rng.randrange(2**32):08x}")
    payload = pickle.dumps(_Exec(marker), protocol=2)
    if rng.random() < 0.5:
        name = _find(members, "sample_inputs/model.pt")
        members[name] = payload
        what = "sample inputs replaced by a code-running pickle"
    else:
        config = _find(members, "weights/model_weights_config.json")
        members[config] = members[config].replace(b'"use_pickle": false', b'"use_pickle": true',
                                                  1)
        members[_find(members, "weights/weight_0")] = payload
        what = "weight_0 replaced by a code-running pickle (use_pickle true)"
    return write_members(members), what, False, marker


def pt2_meta(data: bytes, rng: random.Random):
    members = read_members(data)
    name = _find(members, rng.choice(("/archive_version", "/byteorder", "/archive_format",
                                      "/.data/version")))
    members[name] = rng.choice((b"", b"0", b"99", b"big", b"-1", b"\xff" * 8))
    return write_members(members), f"{name.split('/', 1)[1]} -> {members[name]!r}", False


for _fn in (pt2_json, pt2_weights, pt2_pickle, pt2_meta):
    _fn.__module__ = __name__
PT2_MUTATORS = (pt2_json, pt2_json, pt2_json, pt2_weights, pt2_weights, pt2_pickle,
                pt2_meta) + ZIP_DAMAGE


def zip_weight_ranges(data: bytes, fmt: str) -> list[tuple[int, int]]:
    """Offsets of stored weight members' data (.pt2 data/weights/*, .keras's weight datasets
    inside a stored model.weights.h5)."""
    ranges = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            head = data[info.header_offset:info.header_offset + 30]
            start = info.header_offset + 30 + struct.unpack("<H", head[26:28])[0] + \
                struct.unpack("<H", head[28:30])[0]
            if info.compress_type != zipfile.ZIP_STORED:
                continue
            if fmt == "pt2" and "/data/weights/weight_" in info.filename:
                ranges.append((start, start + info.file_size))
            elif fmt == "keras" and info.filename == "model.weights.h5":
                from fuzz_mut_keras import h5_weight_ranges
                inner = h5_weight_ranges(z.read(info))
                ranges += [(start + a, start + b) for a, b in inner]
    return ranges
