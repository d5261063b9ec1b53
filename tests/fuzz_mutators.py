"""Seeded, deterministic mutators for the model-loading fuzz test.

`mutate(fmt, data, case_seed)` turns a valid seed model into a corrupted one and says how:
byte-level edits (bit flips, overwrites, truncation, junk appended, 32-bit edge values) that
work on any format, and structure-aware edits per format (fuzz_mut_tflite.py, fuzz_mut_onnx.py,
fuzz_mut_keras.py, fuzz_mut_zip.py) that keep the container valid so the loaders get past
parsing. Everything draws from one random.Random, so a (format, seed) pair reproduces a case.
"""
from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field

HUGE = (2**31 - 1, 2**32 - 1, 2**24, 65536, 1 << 40)
EDGE_INTS = (0, 1, -1, -2, 127, 128, -128, 255, 256, 2**15, 2**31 - 1, -(2**31), 2**32 - 1)


class Skip(Exception):
    """The mutator does not apply to this model (nothing of the kind to edit)."""


@dataclass
class Mutation:
    data: bytes
    steps: list[str] = field(default_factory=list)
    in_weights: bool = True   # every changed byte lies inside weight data
    marker: str | None = None  # a file the model's payload would create if its code ran

    @property
    def description(self) -> str:
        return "; ".join(self.steps)


def _span_in(ranges, start: int, end: int) -> bool:
    return any(lo <= start and end <= hi for lo, hi in ranges)


def bit_flips(data: bytes, rng: random.Random, ranges):
    if not data:
        raise Skip
    buf, n = bytearray(data), rng.choice((1, 1, 2, 4, 16))
    spots = [rng.randrange(len(buf)) for _ in range(n)]
    for pos in spots:
        buf[pos] ^= 1 << rng.randrange(8)
    inside = all(_span_in(ranges, p, p + 1) for p in spots)
    return bytes(buf), f"bit flips at {sorted(spots)[:6]}", inside


def overwrite(data: bytes, rng: random.Random, ranges):
    if not data:
        raise Skip
    buf = bytearray(data)
    length = min(rng.choice((1, 2, 4, 8, 64)), len(buf))
    pos = rng.randrange(len(buf) - length + 1)
    fill = rng.choice((b"\x00", b"\xff", b"\x7f", b"\x80", None))
    new = fill * length if fill else bytes(rng.randrange(256) for _ in range(length))
    buf[pos:pos + length] = new
    return bytes(buf), f"overwrite {length} B at {pos} with {new[:8].hex()}", \
        _span_in(ranges, pos, pos + length)


def edge_int32(data: bytes, rng: random.Random, ranges):
    """A little-endian 32-bit edge value at a 4-aligned offset (flatbuffer offsets, sizes)."""
    buf = bytearray(data)
    pos = rng.randrange(max(len(buf) // 4, 1)) * 4
    if pos + 4 > len(buf):
        raise Skip
    value = rng.choice(EDGE_INTS + HUGE[:3])
    buf[pos:pos + 4] = struct.pack("<I", value & 0xFFFFFFFF)
    return bytes(buf), f"int32 {value} at {pos}", _span_in(ranges, pos, pos + 4)


def truncate(data: bytes, rng: random.Random, ranges):
    if not data:
        raise Skip
    cut = rng.choice((0, 1, 4, 8, 16, rng.randrange(len(data)), len(data) - 1,
                      len(data) // 2))
    return data[:cut], f"truncate to {cut} of {len(data)} B", False


def append_junk(data: bytes, rng: random.Random, ranges):
    n = rng.choice((1, 7, 100, 4096))
    junk = rng.choice((b"\x00" * n, b"\xff" * n, bytes(rng.randrange(256) for _ in range(n)),
                       data[: min(n, len(data))]))
    return data + junk, f"append {len(junk)} B junk", False


BYTE_MUTATORS = (bit_flips, overwrite, edge_int32, truncate, append_junk)


def structural_mutators(fmt: str):
    """The structure-aware mutators of `fmt` (imported lazily: each needs its library)."""
    if fmt == "tflite":
        from fuzz_mut_tflite import MUTATORS
    elif fmt == "onnx":
        from fuzz_mut_onnx import MUTATORS
    elif fmt == "h5":
        from fuzz_mut_keras import H5_MUTATORS as MUTATORS
    elif fmt == "keras":
        from fuzz_mut_keras import KERAS_MUTATORS as MUTATORS
    elif fmt == "pt2":
        from fuzz_mut_zip import PT2_MUTATORS as MUTATORS
    else:
        raise ValueError(fmt)
    return MUTATORS


def weight_ranges(fmt: str, data: bytes) -> list[tuple[int, int]]:
    """Byte ranges of `data` holding weight values (for 'was the mutation in the weights?')."""
    try:
        if fmt == "tflite":
            from fuzz_mut_tflite import weight_ranges as ranges
        elif fmt == "onnx":
            from fuzz_mut_onnx import weight_ranges as ranges
        elif fmt == "h5":
            from fuzz_mut_keras import h5_weight_ranges as ranges
        else:
            from fuzz_mut_zip import zip_weight_ranges as ranges
        return ranges(data) if fmt not in ("keras", "pt2") else ranges(data, fmt)
    except Exception:  # a seed the parser cannot walk: treat nothing as weights
        return []


def mutate(fmt: str, data: bytes, case_seed: int, ranges=None) -> Mutation:
    """Case `case_seed` of format `fmt`: one to three edits of `data`, chosen by the seed.

    The first edit is structure-aware 60% of the time; stacked edits are byte-level."""
    rng = random.Random(f"{fmt}/{case_seed}")
    ranges = weight_ranges(fmt, data) if ranges is None else ranges
    result = Mutation(data)
    count = rng.choice((1, 1, 1, 1, 2, 3))
    for step in range(count):
        structural = step == 0 and rng.random() < 0.6
        pool = structural_mutators(fmt) if structural else BYTE_MUTATORS
        for _ in range(20):
            fn = rng.choice(pool)
            try:
                out = fn(result.data, rng, ranges) if not structural else fn(result.data, rng)
            except Skip:
                continue
            except Exception:   # a mutator's own limit (a library refusing the edit)
                continue
            new, what, inside = out[:3]
            if len(out) > 3:
                result.marker = out[3]
            result.data = new
            result.steps.append(f"{fn.__module__.replace('fuzz_', '')}.{fn.__name__}: {what}")
            result.in_weights = result.in_weights and bool(inside)
            if structural:
                ranges = []   # offsets moved: later byte edits are not located in weights
            break
    return result
