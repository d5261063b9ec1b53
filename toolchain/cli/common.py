"""Argument helpers every `fitml` verb shares: JSON output, --input-shape, sizes, and the
--memory / --input-buffer / --partition options (entry.py builds the parser)."""
from __future__ import annotations

import json

from .. import api
from ..errors import UsageError
from ..targets.fields import SizeRangeError, size_bytes


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False))


def input_shapes(specs) -> dict:
    """--input-shape NAME=1,28,28,1 (repeatable) -> {NAME: (1, 28, 28, 1)}."""
    shapes = {}
    for spec in specs or ():
        name, _, dims = spec.rpartition("=")
        try:
            shapes[name] = tuple(int(d) for d in dims.split(","))
        except ValueError:
            name = ""
        if not name or any(d < 1 for d in shapes.get(name, ())):
            raise UsageError(f"--input-shape {spec!r}: expected NAME=D0,D1,... with sizes >= 1")
    return shapes


def model_arg(args):
    """The model path, or the loaded Graph when --input-shape fixes dynamic dims or
    --input-layout changes the inputs."""
    shapes = input_shapes(getattr(args, "input_shape", None))
    layout = getattr(args, "input_layout", None)
    if shapes or layout:
        return api.load(args.model, input_shapes=shapes, input_layout=layout)
    return args.model


def add_input_layout(s) -> None:
    s.add_argument("--input-layout", choices=["nhwc"], default=None,
                   help="nhwc: an NCHW input the model transposes to NHWC first (PyTorch/ONNX "
                   "conversions) is fed NHWC instead, and the TRANSPOSE goes (the input's "
                   "shape changes; report.json and model.h say so)")


SIZE_FORMS = "bytes (262144), hex (0x40000) or a number with K, M or G (256K, 1M, 512KiB)"


def size_arg(value, flag: str):
    """A --ram/--flash/--reserve-ram value in bytes; a bad one names the flag and the forms."""
    if value is None:
        return None
    try:
        return size_bytes(value)
    except SizeRangeError as exc:
        raise UsageError(f"{flag} {exc}") from None
    except ValueError:
        raise UsageError(f"{flag} {value!r}: not a size; use {SIZE_FORMS}") from None


def add_partition(s) -> None:
    s.add_argument("--partition", default="auto", metavar="off|auto|NxM",
                   help="patch-based execution of the first layers (MCUNetV2): auto (default) "
                   "when the layer-by-layer activations do not fit RAM, off, or a grid NxM")


def add_memory(s) -> None:
    s.add_argument("--memory", default="auto", choices=["auto", "fast", "small"],
                   help="auto (default): the fastest plan that fits the board (fast, else "
                        "small, else partitioned; the report says which and why); fast: the "
                        "fastest kernels; small: the smallest arena (residual ADDs fused into "
                        "their convs, scratch-free kernels at the peak; bit-exact, more "
                        "instructions)")
    s.add_argument("--input-buffer", default="arena", metavar="arena|caller[:REGION]",
                   help="arena: inputs are copied into the arena; caller: the model reads "
                        "them in place from buffers the caller owns (e.g. a camera DMA "
                        "frame): a smaller arena, the input bytes counted apart, in the main "
                        "RAM region or in RAM region REGION")


def input_buffer_arg(value: str) -> bool | str:
    """--input-buffer: False (inputs in the arena), True (caller-owned, in main RAM) or the
    name of the RAM region holding the caller's buffers."""
    kind, _, region = value.partition(":")
    if kind == "arena" and not region:
        return False
    if kind == "caller":
        return region or True
    raise UsageError(f"--input-buffer {value!r}: expected arena, caller or caller:REGION "
                     "(a RAM region of the target)")
