"""TFLite custom operators: the one line fitml says when a model uses one.

fitml runs TFLite builtin operators. Custom ones are named by a string in the file; the known
families say what they are and what to do instead, any other is named as it is.
"""
from __future__ import annotations

from ..util.text import printable

MAX_NAME = 64       # the custom code comes from the file: shown escaped and cut

# (match, family, what to do instead): `match` is an exact name or a prefix ending in "*"
FAMILIES = (
    ("Signal*", "TFLite Micro's signal library: an audio front end's windowing, FFT, filter banks",
     "compute those features in the application and give fitml the model from the features "
     "on"),
    ("ethos-u", "an Arm Ethos-U NPU command stream compiled by Vela",
     "give fitml the .tflite from before Vela, which keeps the network's own operators"),
    ("Flex*", "a TensorFlow (Select TF ops) kernel",
     "re-convert with TFLite builtin operators only (supported_ops=[TFLITE_BUILTINS(_INT8)])"),
    ("TFLite_Detection_PostProcess", "SSD detection post-processing",
     "run the box decoding and non-max suppression in the application on the model's raw "
     "outputs"),
)


def family(name: str) -> tuple[str, str] | None:
    """(what the custom op is, what to do instead) of a known family, else None."""
    for match, what, instead in FAMILIES:
        hit = name.startswith(match[:-1]) if match.endswith("*") else name == match
        if hit:
            return what, instead
    return None


def custom_op_message(raw, index: int, output: str, supported: list[str]) -> str:
    """The one line for custom op `raw` (the file's custom code bytes) at operator `index`."""
    name = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else \
        str(raw or "")
    shown = printable(name[:MAX_NAME] + ("..." if len(name) > MAX_NAME else "")) or "?"
    known = family(name)
    what = f" ({known[0]}): {known[1]}" if known else ""
    return (f"operator {index} (output tensor {output}) is the custom operator '{shown}'{what}; "
            f"fitml runs TFLite builtin operators only: {', '.join(supported)}")
