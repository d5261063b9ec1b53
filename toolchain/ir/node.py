"""An op seen together with its tensors: what op rules, references and lowerings work on."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .graph import Graph
from .op import Op
from .tensor import Tensor


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
