"""Which runtime variant lowering is for, and which layers keep their plain int8 weights.

Two context variables the op lowerings read: the kernel variant ("portable", "dsp", "mve"),
set by backends/c.py for the target's core, and the layers whose DSP/MVE weight layout was
left out to fit the flash (set by backends/clayouts.py). Only fast builds carry the arrays
their kernels read, so portable builds pay no flash for them.
"""
from __future__ import annotations

import contextlib
import contextvars

from ..ir import Node

_VARIANT = contextvars.ContextVar("fitml_kernel_variant", default="portable")


@contextlib.contextmanager
def kernel_variant(variant: str):
    """Lower for one runtime variant ("portable", "dsp", "mve"): only DSP/MVE builds carry the
    arrays their fast kernels read (int16 weight layouts, ADD tables), so portable builds pay
    no flash for them."""
    token = _VARIANT.set(variant)
    try:
        yield
    finally:
        _VARIANT.reset(token)


def current_variant() -> str:
    """The runtime variant lowering is for (the kernel_variant() context; "portable")."""
    return _VARIANT.get()


def fast_kernels() -> bool:
    """True when the build links DSP or MVE kernels."""
    return _VARIANT.get() in ("dsp", "mve")


_PLAIN = contextvars.ContextVar("fitml_plain_layouts", default=frozenset())


@contextlib.contextmanager
def plain_layouts(layers):
    """Within: the ops writing these tensors get no DSP weight layout (filter_dsp NULL: their
    int8 path), as when a layout would not fit the flash (backends/clayouts.py)."""
    token = _PLAIN.set(frozenset(layers))
    try:
        yield
    finally:
        _PLAIN.reset(token)


def current_plain() -> frozenset:
    """The layers plain_layouts() keeps without DSP layouts."""
    return _PLAIN.get()


def wants_layout(node: Node) -> bool:
    """Emit a DSP/MVE kernel's pre-widened weight layout for this op: a fast build, and the
    op not asked to keep its plain int8 weights (plain_layouts)."""
    return fast_kernels() and node.outs[0].name not in _PLAIN.get()

