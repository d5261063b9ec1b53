"""Model-provided text made safe for a terminal.

Tensor, node and file names come from hostile files: an ESC, BEL or CR in a name printed raw
can clear the screen or overwrite a line (a fake VERDICT), and a bidi override can reorder
what the reader sees. `printable` shows every such character as a visible escape instead.
"""
from __future__ import annotations

BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                 "\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\u2028\u2029\x85")


def _unsafe(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or ch in BIDI or ch in LINE_BREAKS


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text, keep_newlines: bool = False) -> str:
    """`text` (any object, via str) with C0/C1 controls, DEL, line separators and Unicode
    bidi controls rendered as \\x1b / \\u202e escapes; everything else is kept as is.
    keep_newlines: leave "\\n" alone (multi-line output such as a compiler's errors)."""
    text = str(text)
    if keep_newlines:
        return "\n".join(printable(line) for line in text.split("\n"))
    if not any(_unsafe(ch) for ch in text):
        return text
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in text)
