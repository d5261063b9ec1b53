"""The op registry: every op kind is one class in one file, registered with `@register`.

An op whose kernels differ per dtype (CONV_2D's int16, int4 and hybrid ones...) declares a
`signature`; each such kernel is a function registered with `@variant` for the dtype pairs it
serves, and the registry picks it when the op's `reference` or `lower_c` is called.

Readers, writers, the reference executor, codegen and reports look ops up here; nothing else
keeps a table of ops.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..ir import GraphError, Node, Op, Tensor

Shape = tuple[int, ...]
Signature = tuple[tuple[str, str], ...]     # the (input, filter) dtype pairs a kernel serves

# dtype signatures of the weighted ops' kernels
FLOAT: Signature = (("float32", "float32"),)
INT8: Signature = (("int8", "int8"),)
INT16x8: Signature = (("int16", "int8"),)      # TFLite's 16x8: int16 activations, int8 filter
INT8x4: Signature = (("int8", "int4"),)        # int8 activations, packed int4 filter
HYBRID: Signature = (("float32", "int8"), ("float32", "int4"))  # float activations, int filter
INT16: Signature = (("int16", "none"),)        # int16 activations of a one-input op
VARIANT_METHODS = ("reference", "lower_c")


class OpDef:
    """Base class of op definitions. Subclasses override what applies to them.

    kind            registry key; the TFLite builtin operator name for TFLite ops
    tflite_options  name of the TFLite BuiltinOptions table (None: the op has none)
    uint8_ok        True for the few ops that take legacy uint8 activations
    signature       node -> its dtype pair, for ops whose kernels differ per dtype: `register`
                    then makes `reference` and `lower_c` run the `@variant` kernel registered
                    for that pair, and the op's own methods serve the pairs no variant claims
    own_dtypes      the dtype pairs the op's own reference / lower_c are written for
    shape_only      True when the outputs depend only on the input shapes (SHAPE): constant
                    folding replaces the op by its value
    """

    kind: str = ""
    tflite_options: str | None = None
    uint8_ok: bool = False          # accepts legacy uint8 activations (QUANTIZE, DEQUANTIZE)
    signature: Callable[[Node], tuple[str, str]] | None = None
    own_dtypes: Signature = ()
    shape_only: bool = False

    @staticmethod
    def infer(op: Op, ins: Sequence[Tensor | None]) -> list[tuple[Shape, str]]:
        """Output (shape, dtype) pairs from the inputs and attributes."""
        raise NotImplementedError

    @staticmethod
    def check(op: Op, ins: Sequence[Tensor | None], outs: Sequence[Tensor]) -> None:
        """Raise GraphError when quantization or attributes break the op's contract."""

    @staticmethod
    def reference(node: Node, args: list[np.ndarray | None]) -> list[np.ndarray]:
        """The numpy reference (the living spec): float32 math or TFLite's integer math."""
        raise NotImplementedError

    @staticmethod
    def attrs_from_tflite(options: Any) -> dict[str, Any]:
        """Attributes from the TFLite object-API options instance (None when absent)."""
        return {}

    @staticmethod
    def attrs_to_tflite(attrs: dict[str, Any]) -> Any:
        """The TFLite object-API options instance for these attributes, or None."""
        return None

    @staticmethod
    def lower_c(node: Node):
        """The C kernel call for this node (a lowering.ccall.CCall); op files override it."""
        raise NotImplementedError(f"{node.op.kind}: no C runtime kernel (its op file has no "
                                  "lower_c)")

    @staticmethod
    def macs(node: Node) -> int:
        """Multiply-accumulates per inference (0 for data movement)."""
        return 0


_REGISTRY: dict[str, type[OpDef]] = {}
_VARIANTS: dict[tuple[str, str, tuple[str, str]], Callable] = {}
_OWN: dict[tuple[str, str], Callable] = {}      # the methods the dispatchers replaced


def register(cls: type[OpDef]) -> type[OpDef]:
    """Class decorator: add an op definition to the registry under `cls.kind`."""
    if not cls.kind:
        raise TypeError(f"{cls.__name__} has no kind")
    if cls.kind in _REGISTRY:
        raise TypeError(f"op kind {cls.kind} registered twice")
    if cls.signature is not None:
        for method in VARIANT_METHODS:
            setattr(cls, method, staticmethod(_dispatcher(cls, method)))
    _REGISTRY[cls.kind] = cls
    return cls


def input_filter_dtypes(node: Node) -> tuple[str, str]:
    """The dtype pair of a weighted op (CONV_2D, FULLY_CONNECTED, ...): (input, filter); of a
    one-input op (LEAKY_RELU): (input, "none")."""
    x, w = (node.ins + (None, None))[:2]
    return (x.dtype if x is not None else "none", w.dtype if w is not None else "none")


def variant(kind: str, signature: Signature, method: str):
    """Function decorator: the `method` ("reference" or "lower_c") of op `kind` for nodes
    whose dtype pair is in `signature`, e.g. `@variant("CONV_2D", INT16x8, "lower_c")`."""
    if method not in VARIANT_METHODS:
        raise TypeError(f"variant method {method!r}: not one of {VARIANT_METHODS}")

    def add(kernel: Callable) -> Callable:
        taken = [d for d in signature if (kind, method, d) in _VARIANTS]
        if taken:
            raise TypeError(f"{kind} {method} for {taken[0]} registered twice")
        _VARIANTS.update({(kind, method, d): kernel for d in signature})
        return kernel
    return add


def variants(kind: str) -> dict[tuple[str, tuple[str, str]], Callable]:
    """{(method, dtype pair): kernel} registered for op `kind`."""
    return {(m, d): f for (k, m, d), f in _VARIANTS.items() if k == kind}


def dtype_pairs(kind: str) -> set[tuple[str, str]]:
    """The dtype pairs op `kind` supports: its own kernels' and its registered variants'."""
    return set(get(kind).own_dtypes) | {d for (k, _, d) in _VARIANTS if k == kind}


def _dispatcher(cls: type[OpDef], method: str) -> Callable:
    """`cls.<method>` that runs the variant registered for the node's dtype pair, if any."""
    own = getattr(cls, method)

    def dispatch(node: Node, *args):
        kernel = _VARIANTS.get((cls.kind, method, cls.signature(node)), own)
        return kernel(node, *args)
    dispatch.__doc__ = own.__doc__
    _OWN[(cls.kind, method)] = own
    return dispatch


def own_method(kind: str, method: str) -> Callable:
    """Op `kind`'s own `method`, bypassing its variants: for a variant that serves only some
    nodes of its dtype pair (a table kernel where it pays) and leaves the rest to the op."""
    return _OWN.get((kind, method)) or getattr(get(kind), method)


def get(kind: str) -> type[OpDef]:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise GraphError(f"unknown op kind {kind!r}; supported: {', '.join(supported())}") from None


def supported() -> list[str]:
    return sorted(_REGISTRY)


def all_defs() -> dict[str, type[OpDef]]:
    return dict(_REGISTRY)
