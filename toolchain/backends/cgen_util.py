"""Rendering numbers, arrays and struct initializers as C text; escaping untrusted strings."""
from __future__ import annotations

import re

import numpy as np

from ..lowering.ccall import CArray


def c_comment(text: str, limit: int = 80) -> str:
    """Make untrusted text safe inside /* */: printable ASCII only, no comment terminators."""
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in str(text))
    text = text.replace("*/", "*_/").replace("/*", "/_*")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def c_identifier(text: str) -> str:
    ident = re.sub(r"[^A-Za-z0-9_]", "_", text)
    if not ident or ident[0].isdigit():
        ident = "m_" + ident
    return ident


def c_int(value: int) -> str:
    value = int(value)
    if value == -(1 << 31):
        return "(-2147483647 - 1)"
    if value >= 1 << 31 or value < -(1 << 31):
        return f"{value}LL"
    return str(value)


def c_float(value: float) -> str:
    v = np.float32(value)
    if np.isnan(v):
        return "(0.0f / 0.0f)"
    if np.isinf(v):
        return "(1.0f / 0.0f)" if v > 0 else "(-1.0f / 0.0f)"
    text = f"{float(v):.9g}"
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def c_array_body(arr: CArray, per_line: int = 16) -> str:
    """The initializer of a constant array, `per_line` values a line: one pass over the values
    (weight arrays run to millions of elements), the same text as c_int / c_float per value."""
    values = np.asarray(arr.values).ravel()
    if values.size == 0:
        return "0"
    if arr.ctype != "float" and values.dtype.kind in "iu":
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < min(1 << 16, values.size) and -(1 << 31) < lo and hi < 1 << 31:
            # large int8/int16 arrays: each value's text and the separator after it, from a
            # table of the range's texts (smaller than the array), looked up all at once
            table = [str(v) for v in range(lo, hi + 1)]
            after = np.array([t + ", " for t in table] + [t + ",\n    " for t in table] + table,
                             dtype=object)
            which = np.zeros(values.size, np.int64)
            which[per_line - 1::per_line] = len(table)
            which[-1] = 2 * len(table)
            which += values.astype(np.int64) - lo
            step = per_line << 12              # in chunks: no per-value list of the whole array
            return "".join("".join(after[which[i:i + step]].tolist())
                           for i in range(0, values.size, step))
    if arr.ctype == "float":
        items = _c_floats(values)
    elif values.size and -(1 << 31) < int(values.min()) and int(values.max()) < 1 << 31:
        items = list(map(str, values.tolist()))
    else:
        items = [c_int(v) for v in values.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n    ".join(lines)


def _c_floats(values: np.ndarray) -> list[str]:
    v32 = values.astype(np.float32)
    if not np.isfinite(v32).all():
        return [c_float(v) for v in v32]
    items = [f"{v:.9g}" for v in v32.astype(np.float64).tolist()]
    return [t + "f" if ("e" in t or "." in t) else t + ".0f" for t in items]
