"""The op registry: every op kind is one class in one file, registered with `@register`.

An op whose kernels differ per dtype (CONV_2D's int16, int4 and hybrid ones...) declares a
`signature`; each such kernel is a function registered with `@variant` for the dtype pairs it
serves, and the registry picks it when the op's `reference` or `lower_c` is called.

Readers, writers, the reference executor, codegen and reports look ops up here; nothing else
keeps a table of ops. The base class of an op is `opdef.OpDef`.
"""
from __future__ import annotations

from typing import Callable

from ..ir import GraphError, Node
from .opdef import OpDef, Signature

# dtype signatures of the weighted ops' kernels
FLOAT: Signature = (("float32", "float32"),)
INT8: Signature = (("int8", "int8"),)
INT16x8: Signature = (("int16", "int8"),)      # TFLite's 16x8: int16 activations, int8 filter
INT8x4: Signature = (("int8", "int4"),)        # int8 activations, packed int4 filter
HYBRID: Signature = (("float32", "int8"), ("float32", "int4"))  # float activations, int filter
INT16: Signature = (("int16", "none"),)        # int16 activations of a one-input op
VARIANT_METHODS = ("reference", "lower_c")


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
