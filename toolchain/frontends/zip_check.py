"""Sanity checks for a zip model container (.pt2, .keras) before any library reads it.

A hostile archive can hide data before the first entry, list overlapping entries (a zip bomb
made of one compressed block), claim huge sizes, or name two entries so that one reader
picks the first and another the last (torch's miniz matches names case-insensitively).
`open_zip` refuses all of that, so the entries fitml checks are the ones the loader reads.
"""
from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from ..errors import ModelError

ZIP_MAGIC = b"PK\x03\x04"
MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 1 << 30        # uncompressed; far beyond any model that fits a Cortex-M
MAX_RATIO = 200                  # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1 << 20
LOCAL_HEADER = 30                # fixed part of a local file header


def open_zip(source: Path | io.BytesIO, where: str) -> zipfile.ZipFile:
    """The archive, opened after the checks above; ModelError naming `where` otherwise."""
    fp = source if isinstance(source, io.BytesIO) else None
    try:
        if fp is None:
            with open(source, "rb") as f:
                head, cd_offset = f.read(4), _central_directory_offset(f)
        else:
            fp.seek(0)
            head, cd_offset = fp.read(4), _central_directory_offset(fp)
        z = zipfile.ZipFile(fp if fp is not None else source)
    except (OSError, EOFError, ValueError, NotImplementedError, zipfile.BadZipFile,
            struct.error) as exc:
        raise ModelError(f"{where}: not a readable zip archive ({_brief(exc)})") from None
    try:
        if head != ZIP_MAGIC:
            raise ModelError(f"{where}: the zip archive does not start at byte 0 (data is "
                             "prepended); refusing an ambiguous model file")
        if cd_offset is None or z.start_dir != cd_offset:
            raise ModelError(f"{where}: the zip directory is not where its end record says "
                             "(data is prepended or embedded); refusing an ambiguous model file")
        check_members(z, where)
    except BaseException:
        z.close()
        raise
    return z


def check_members(z: zipfile.ZipFile, where: str) -> None:
    infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelError(f"{where}: {len(infos)} zip entries (at most {MAX_MEMBERS})")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        folded = name.casefold()
        if folded in seen:
            raise ModelError(f"{where}: zip entry {name!r} appears twice (names are compared "
                             "ignoring case); refusing an ambiguous model file")
        seen.add(folded)
        if (not name or name.startswith("/") or "\\" in name or "\x00" in name
                or ".." in name.split("/")):
            raise ModelError(f"{where}: zip entry name {name!r} is not a plain relative path")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ModelError(f"{where}: zip entries hold more than {MAX_TOTAL_BYTES >> 20} MiB "
                             "uncompressed (a zip bomb or not a microcontroller model)")
        if (info.file_size > RATIO_FLOOR
                and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
            raise ModelError(f"{where}: zip entry {name!r} expands {info.compress_size} bytes "
                             f"to {info.file_size} (more than {MAX_RATIO}x: a zip bomb?)")
    _check_no_overlap(infos, where)


def _check_no_overlap(infos: list[zipfile.ZipInfo], where: str) -> None:
    """Each entry's data must end before the next entry starts (no shared compressed data)."""
    spans = sorted((i.header_offset, i.header_offset + LOCAL_HEADER + len(i.orig_filename)
                    + i.compress_size, i.filename) for i in infos)
    for (_, end, name), (start, _, _) in zip(spans, spans[1:]):
        if end > start:
            raise ModelError(f"{where}: zip entry {name!r} overlaps the next entry "
                             "(a zip bomb or a corrupt archive)")
    if spans and spans[0][0] != 0:
        raise ModelError(f"{where}: the first zip entry does not start at byte 0")


def read_member(z: zipfile.ZipFile, name: str, where: str, limit: int = MAX_TOTAL_BYTES) -> bytes:
    """An entry's bytes (CRC checked by zipfile), refusing more than `limit` bytes."""
    try:
        info = z.getinfo(name)
        if info.file_size > limit:
            raise ModelError(f"{where}: zip entry {name!r} is {info.file_size} bytes "
                             f"(at most {limit})")
        with z.open(info) as f:
            data = f.read(limit + 1)
    except ModelError:
        raise
    except KeyError:
        raise ModelError(f"{where}: zip entry {name!r} is missing") from None
    except (OSError, EOFError, ValueError, NotImplementedError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{where}: zip entry {name!r} is unreadable ({_brief(exc)})") from None
    if len(data) > limit:
        raise ModelError(f"{where}: zip entry {name!r} is larger than {limit} bytes")
    return data


def _central_directory_offset(f) -> int | None:
    """The central directory offset the end record states, found the way zipfile finds it:
    a bare end record at the very end, else the last one in the tail; a zip64 record must sit
    right before its locator (where zipfile reads it) and be where the locator says (miniz)."""
    f.seek(0, io.SEEK_END)
    size = f.tell()
    start = max(0, size - (22 + 65536))
    f.seek(start)
    tail = f.read()
    at = len(tail) - 22 if tail[-22:-18] == b"PK\x05\x06" else tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    offset = struct.unpack("<I", tail[at + 16:at + 20])[0]
    end_record = start + at
    if end_record < 20 + 56:
        return offset
    f.seek(end_record - 20 - 56)
    record, locator = f.read(56), f.read(20)
    if locator[:4] != b"PK\x06\x07":
        return offset
    if record[:4] != b"PK\x06\x06" or struct.unpack("<Q", locator[8:16])[0] != end_record - 76:
        return None
    return struct.unpack("<Q", record[48:56])[0]


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
