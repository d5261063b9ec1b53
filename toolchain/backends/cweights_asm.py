"""The weights of model_weights.c as GNU assembly over a binary file (`.incbin`): the same
symbols, sections, alignments, sizes, order and bytes that arm-none-eabi-gcc makes of the C
text, assembled in milliseconds instead of parsed for seconds (megabytes of initializers).

Only measuring builds use it (`fitml check`: code, stack and whether the board-sized program
links); what users compile and what `verify` runs is the C text. tests/test_weights_asm.py
links both forms of real models and compares every symbol's address and size.
"""
from __future__ import annotations

import re

import numpy as np

WEIGHT_ALIGN_LOG2, PARAM_ALIGN_LOG2 = 4, 2      # templates/model_weights.c.j2: 16 and 4 bytes
_SAFE = re.compile(r"\.?[A-Za-z_][\w.]*")


def weights_assembly(ctx: dict, blob_name: str, opt: str) -> tuple[str, bytes] | None:
    """(assembly text, binary file) for the weights and parameter arrays of the C context
    `ctx` (backends/c.c_context), or None when the C text could differ from the raw bytes
    (a non-finite float: the C writes it as an expression) or a name is not a plain symbol.
    gcc emits a translation unit's variables in reverse order unless optimisations are off
    (`opt` -O0), which decides where each lands in a shared section."""
    items = [(w, ctx["section"] if not w["region"] else f".fitml.{w['region']}",
              WEIGHT_ALIGN_LOG2) for w in ctx["weights"]]
    items += [(a, f".rodata.{a['name']}", PARAM_ALIGN_LOG2) for a in ctx["arrays"]]
    if opt != "-O0":
        items.reverse()
    lines, chunks, offset = [], [], 0
    for item, section, align in items:
        values = item["array"].values
        if values.size == 0 or not _SAFE.fullmatch(item["name"]) \
                or not _SAFE.fullmatch(section) or \
                (values.dtype.kind == "f" and not np.isfinite(values).all()):
            return None
        data = values.astype(values.dtype.newbyteorder("<")).tobytes()
        lines += [f'\t.section {section},"a"', f"\t.align {align}", f"\t.global {item['name']}",
                  f"\t.type {item['name']}, %object", f"\t.size {item['name']}, {len(data)}",
                  f"{item['name']}:", f'\t.incbin "{blob_name}", {offset}, {len(data)}']
        chunks.append(data)
        offset += len(data)
    return "\n".join(lines) + "\n", b"".join(chunks)
