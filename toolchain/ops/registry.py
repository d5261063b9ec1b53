"""The op registry: every op kind is one class in one file, registered with `@register`.

Readers, writers, the reference executor, codegen and reports look ops up here; nothing else
keeps a table of ops.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..ir import Graph, GraphError, Op, Tensor

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Node:
    """An op together with its input and output tensors (inputs may be None when absent)."""

    op: Op
    ins: tuple[Tensor | None, ...]
    outs: tuple[Tensor, ...]

    @staticmethod
    def of(graph: Graph, op: Op) -> "Node":
        return Node(op, graph.op_inputs(op), graph.op_outputs(op))

    def attr(self, key: str, default: Any = None) -> Any:
        return self.op.attrs.get(key, default)

    @property
    def quantized(self) -> bool:
        """True when the op runs integer arithmetic (its first input is not float)."""
        return self.ins[0] is not None and self.ins[0].dtype != "float32"


class OpDef:
    """Base class of op definitions. Subclasses override what applies to them.

    kind            registry key; the TFLite builtin operator name for TFLite ops
    tflite_options  name of the TFLite BuiltinOptions table (None: the op has none)
    uint8_ok        True for the few ops that take legacy uint8 activations
    """

    kind: str = ""
    tflite_options: str | None = None
    uint8_ok: bool = False          # accepts legacy uint8 activations (QUANTIZE, DEQUANTIZE)

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
        """The C kernel call for this node (a backends.clower.CCall); op files override it."""
        raise NotImplementedError(f"{node.op.kind}: no C runtime kernel (its op file has no "
                                  "lower_c)")

    @staticmethod
    def macs(node: Node) -> int:
        """Multiply-accumulates per inference (0 for data movement)."""
        return 0


_REGISTRY: dict[str, type[OpDef]] = {}


def register(cls: type[OpDef]) -> type[OpDef]:
    """Class decorator: add an op definition to the registry under `cls.kind`."""
    if not cls.kind:
        raise TypeError(f"{cls.__name__} has no kind")
    if cls.kind in _REGISTRY:
        raise TypeError(f"op kind {cls.kind} registered twice")
    _REGISTRY[cls.kind] = cls
    return cls


def get(kind: str) -> type[OpDef]:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise GraphError(f"unknown op kind {kind!r}; supported: {', '.join(supported())}") from None


def supported() -> list[str]:
    return sorted(_REGISTRY)


def all_defs() -> dict[str, type[OpDef]]:
    return dict(_REGISTRY)
