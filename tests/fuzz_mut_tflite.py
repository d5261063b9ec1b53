"""Structure-aware .tflite mutators: edit the flatbuffer through LiteRT's object API and
re-serialize, so the file still parses as a flatbuffer and the edit reaches fitml's reader.
Here: tensor shapes, types, buffer indices, buffer data, weight values, quantization, names;
the graph edits (opcodes, operator inputs/outputs, options, order) are in
fuzz_mut_tflite_ops.py."""
from __future__ import annotations

import math
import random
import struct

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

import fuzz_mut_tflite_ops as ops
from fuzz_mut_tflite_ops import pick, subgraph
from fuzz_mutators import HUGE, Skip

HOSTILE_NAMES = ("*/ #error injected /*", "a\nb", "\"; system(\"x\"); //", "../../etc/x",
                 "x" * 100_000, "\\", "%s%n", "\u00e9\u2603", "")


def _load(data: bytes) -> schema.ModelT:
    try:
        return schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception:
        raise Skip from None


def _pack(model: schema.ModelT) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _edit(data: bytes, rng: random.Random, fn):
    """Load, apply fn(model, rng) -> description, pack; a value the field cannot hold skips."""
    model = _load(data)
    what = fn(model, rng)
    try:
        return _pack(model), what, False
    except (struct.error, OverflowError, TypeError, ValueError):
        raise Skip from None


def _dim_value(rng, old: int) -> int:
    return rng.choice((0, -1, -7, old * 2 + 1, 1) + HUGE[:4])


def _shape(model, rng):
    i, t = pick(subgraph(model, rng).tensors, rng)
    shape = [int(d) for d in (t.shape if t.shape is not None else [])]
    how = rng.choice(("dim", "dim", "drop", "add", "empty"))
    if how == "dim" and shape:
        d = rng.randrange(len(shape))
        shape[d] = _dim_value(rng, shape[d])
    elif how == "drop" and shape:
        shape.pop(rng.randrange(len(shape)))
    elif how == "add":
        shape.insert(rng.randrange(len(shape) + 1), rng.choice((1, 3, 0, 2**31 - 1)))
    else:
        shape = []
    t.shape = shape
    if rng.random() < 0.5:
        t.shapeSignature = list(shape)
    return f"tensor {i} shape -> {shape[:6]}"


def _tensor_type(model, rng):
    i, t = pick(subgraph(model, rng).tensors, rng)
    t.type = rng.choice(tuple(range(23)) + (100, 127))
    return f"tensor {i} type -> {t.type}"


def _tensor_buffer(model, rng):
    i, t = pick(subgraph(model, rng).tensors, rng)
    n = len(model.buffers or [])
    t.buffer = rng.choice((n, n + 5, 2**32 - 1, 0, rng.randrange(max(n, 1))))
    return f"tensor {i} buffer -> {t.buffer} (of {n})"


def _buffer_data(model, rng):
    full = [(i, b) for i, b in enumerate(model.buffers or []) if b.data is not None
            and len(b.data)]
    i, (index, b) = pick(full, rng)
    data = np.asarray(b.data, dtype=np.uint8)
    how = rng.choice(("truncate", "extend", "empty", "offset"))
    if how == "truncate":
        b.data = data[: rng.randrange(len(data))]
    elif how == "extend":
        b.data = np.concatenate([data, data[: max(1, len(data) // 2)]])
    elif how == "empty":
        b.data = None
    else:
        b.data, b.offset, b.size = None, rng.choice((1, 2**40, 64)), rng.choice((4, 2**40))
    return f"buffer {index} data {how}"


def _weight_values(model, rng):
    """Random bytes in one constant buffer: valid structure, garbage weights."""
    full = [(i, b) for i, b in enumerate(model.buffers or []) if b.data is not None
            and len(b.data)]
    _, (index, b) = pick(full, rng)
    data = np.array(b.data, dtype=np.uint8)
    fill = rng.choice(("random", "0xff", "0x7f80 (float inf/nan)"))
    if fill == "random":
        data[:] = np.random.default_rng(rng.randrange(2**32)).integers(0, 256, data.size)
    elif fill == "0xff":
        data[:] = 0xFF
    else:
        data[:] = np.frombuffer(b"\x00\x00\x80\x7f" * (data.size // 4 + 1), np.uint8)[:data.size]
    b.data = data
    return f"buffer {index} values {fill}"


def _quant(model, rng):
    quantized = [(i, t) for i, t in enumerate(subgraph(model, rng).tensors or [])
                 if t.quantization is not None and t.quantization.scale is not None]
    i, (index, t) = pick(quantized, rng)
    q = t.quantization
    zps = q.zeroPoint if q.zeroPoint is not None else [0]
    scale, zp = [float(s) for s in q.scale], [int(z) for z in zps]
    field = rng.choice(("scale", "zero_point", "length", "dimension", "remove"))
    if field == "scale":
        scale[rng.randrange(len(scale))] = rng.choice((0.0, -1.0, math.nan, math.inf, 1e-45,
                                                        1e30))
    elif field == "zero_point":
        zp[rng.randrange(len(zp))] = rng.choice((128, -129, 255, 2**31 - 1, -(2**31), 2**40))
    elif field == "length":
        scale, zp = (scale + scale[:1], zp) if rng.random() < 0.5 else (scale[:-1], zp[:-1])
    elif field == "dimension":
        q.quantizedDimension = rng.choice((5, -1, 2**31 - 1, 3))
    else:
        t.quantization = None
    q.scale, q.zeroPoint = scale, zp
    return f"tensor {index} quantization {field} (scale {scale[:3]}, zp {zp[:3]})"


def _names(model, rng):
    i, t = pick(subgraph(model, rng).tensors, rng)
    t.name = rng.choice(HOSTILE_NAMES)
    return f"tensor {i} name -> {t.name[:30]!r}"


EDITS = (_shape, _shape, _tensor_type, _tensor_buffer, _buffer_data, _weight_values, _quant,
         _quant, _names) + ops.EDITS


def _make(edit):
    def mutator(data: bytes, rng: random.Random):
        out = _edit(data, rng, edit)
        return out[0], out[1], edit is _weight_values
    mutator.__name__ = edit.__name__.lstrip("_")
    mutator.__module__ = __name__
    return mutator


MUTATORS = tuple(_make(e) for e in EDITS)


def weight_ranges(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every constant buffer's bytes inside the flatbuffer."""
    model = schema.Model.GetRootAs(bytearray(data), 0)
    ranges = []
    for i in range(model.BuffersLength()):
        b = model.Buffers(i)
        if b is None or b.DataLength() == 0:
            continue
        start = b._tab.Vector(b._tab.Offset(4))
        ranges.append((start, start + b.DataLength()))
    return ranges
