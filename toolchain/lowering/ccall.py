"""What an op's C lowering returns: one kernel call with a constant parameter struct.

Each op file's `lower_c(node, ctx)` returns a `CCall`; the C backend turns it into
`static const <params_type> p = {...}; status = <kernel>(&p, args...);` in model.c and emits every
`CArray` into model_weights.c. Nothing from the model file reaches C except numbers.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Union

import numpy as np

MAX_DIMS = 6        # FITML_MAX_DIMS: the rank of the runtime's strided walks
# the C element type of each IR dtype (int4 tensors are stored packed, two values a byte)
C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t",
           "float32": "float", "int64": "int64_t", "bool": "uint8_t", "int4": "int8_t"}
CTYPES = {"int8_t": np.int8, "uint8_t": np.uint8, "int16_t": np.int16, "int32_t": np.int32,
          "uint32_t": np.uint32, "float": np.float32, "int64_t": np.int64}


@dataclass(frozen=True, eq=False)
class CArray:
    """A constant array (weights, multipliers, shifts, LUTs) emitted into model_weights.c."""

    values: np.ndarray
    ctype: str
    role: str = "param"           # "weights" arrays are placed in the weights memory region

    def __post_init__(self):
        object.__setattr__(self, "values",
                           np.ascontiguousarray(self.values, CTYPES[self.ctype]).ravel())

    @property
    def key(self) -> tuple[str, str, int, str]:
        """What makes two arrays one: C type, role, length and a hash of the bytes. The C
        backend emits each key once (ops sharing a weight reuse its derived arrays)."""
        cached = self.__dict__.get("_key")
        if cached is None:
            digest = hashlib.sha256(self.values.tobytes()).hexdigest()
            cached = (self.ctype, self.role, int(self.values.size), digest)
            object.__setattr__(self, "_key", cached)
        return cached


@dataclass(frozen=True)
class TensorRef:
    """A graph tensor: resolved to an arena pointer (activation) or a weights array (const)."""

    name: str


@dataclass(frozen=True)
class StateRef:
    """A stateful op's variable tensor (SVDF's activation state, LSTM's states): a static array
    of model.c that keeps its value between invokes, set back by `<prefix>_reset_state()`."""

    name: str


@dataclass(frozen=True)
class Scratch:
    """The op's caller-owned scratch buffer (size in CCall.scratch_bytes)."""


class OutRefs(tuple):
    """Several output tensors (SPLIT, UNPACK): passed as a `void *const[]` compound literal."""


Arg = Union[TensorRef, StateRef, Scratch, CArray, OutRefs, str]


@dataclass(frozen=True)
class CCall:
    kernel: str                       # e.g. "fitml_conv_s8"
    params_type: str | None           # e.g. "fitml_conv_params"; None: kernel takes no struct
    params: dict[str, Any] = field(default_factory=dict)
    args: tuple[Arg, ...] = ()        # after &params, in the kernel's order
    scratch_bytes: int = 0
    alias_of: str | None = None       # RESHAPE-like ops: output shares the input's bytes
    inplace_input: int | None = None  # the kernel may write its output over this input
    # composite ops (PATCHED_STAGE) write their own C: emit(lowered, op index) -> {"defs": file
    # scope C, "call": the expression the schedule evaluates}; `kernels` lists what they call
    emit: Callable[[Any, int], dict] | None = None
    kernels: tuple[str, ...] = ()
    overlay_input: int | None = None  # output laid over this dying input (the op orders writes)
    # params the scratch-free twin takes back (backends/cmemory.without_scratch): the int8
    # filter a DSP build leaves out beside its pre-widened layout
    plain_params: dict[str, Any] = field(default_factory=dict)


def kernel_names(call: CCall) -> tuple[str, ...]:
    """The runtime kernels a call needs compiled (none for aliases)."""
    if call.alias_of is not None:
        return ()
    return ((call.kernel,) if call.kernel else ()) + tuple(call.kernels)
