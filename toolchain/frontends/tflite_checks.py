"""Structure a .tflite subgraph must have beyond what the flatbuffer parser checks.

The object API builds whatever options table `builtinOptionsType` names, so a CONV_2D carrying
FullyConnectedOptions would be read field by field as if it were its own; a subgraph may list a
tensor twice among its inputs or outputs. Both are malformed files, refused by name here.
"""
from __future__ import annotations

from typing import Sequence

from ai_edge_litert import schema_py_generated as schema

from ..errors import ModelError

OPTIONS_NAMES = {v: k for k, v in vars(schema.BuiltinOptions).items() if not k.startswith("_")}


def _own_options(kind: str) -> str | None:
    """The options table named after the builtin (QUANTIZE -> QuantizeOptions), if any."""
    name = "".join(part.capitalize() for part in kind.split("_")) + "Options"
    return name if hasattr(schema.BuiltinOptions, name) else None


def check_options_type(kind: str, declared: str | None, op, where: str) -> None:
    """A ModelError naming the operator when its options table is not the one `kind` takes
    (`declared`: the op rule's `tflite_options`; no options at all means the defaults)."""
    got = OPTIONS_NAMES.get(op.builtinOptionsType, f"#{op.builtinOptionsType}")
    want = declared or _own_options(kind)
    if got not in ("NONE", want):
        raise ModelError(f"{where}: options table is {got}, {kind} takes "
                         f"{want or 'no options'}")
    if getattr(op, "builtinOptions2Type", 0):
        raise ModelError(f"{where}: has extended options (builtinOptions2 type "
                         f"{op.builtinOptions2Type}), which {kind} does not take")


def check_unique(indices: Sequence[int], names: Sequence[str], what: str, where: str) -> None:
    """A ModelError when a subgraph lists one tensor twice among its inputs or outputs."""
    seen: set[int] = set()
    for i in indices:
        if int(i) in seen:
            raise ModelError(f"{where}: tensor {int(i)} ({names[int(i)]!r}) is listed twice "
                             f"among the graph {what}s; each must be listed once")
        seen.add(int(i))
