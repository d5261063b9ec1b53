"""The immutable graph: tensors by name, ops in topological order, graph inputs and outputs.

Passes never mutate a Graph; they build a new one (see `Graph.replace`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Iterable, Mapping

from .op import Op
from .tensor import Tensor


class GraphError(ValueError):
    """The graph breaks an IR invariant (shape, dtype, quantization or topology)."""


@dataclass(frozen=True)
class Graph:
    tensors: Mapping[str, Tensor]
    ops: tuple[Op, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "tensors", MappingProxyType(dict(self.tensors)))
        object.__setattr__(self, "ops", tuple(self.ops))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @staticmethod
    def build(tensors: Iterable[Tensor], ops: Iterable[Op], inputs: Iterable[str],
              outputs: Iterable[str], metadata: Mapping[str, str] | None = None) -> "Graph":
        return Graph({t.name: t for t in tensors}, tuple(ops), tuple(inputs), tuple(outputs),
                     metadata or {})

    def replace(self, **changes) -> "Graph":
        fields = dict(tensors=self.tensors, ops=self.ops, inputs=self.inputs,
                      outputs=self.outputs, metadata=self.metadata)
        fields.update(changes)
        if not isinstance(fields["tensors"], Mapping):
            fields["tensors"] = {t.name: t for t in fields["tensors"]}
        return Graph(**fields)

    def op_inputs(self, op: Op) -> tuple[Tensor | None, ...]:
        return tuple(self.tensors[n] if n else None for n in op.inputs)

    def op_outputs(self, op: Op) -> tuple[Tensor, ...]:
        return tuple(self.tensors[n] for n in op.outputs)

    def producer(self) -> dict[str, int]:
        """Map tensor name -> index of the op that writes it."""
        return {name: i for i, op in enumerate(self.ops) for name in op.outputs}

    def consumers(self) -> dict[str, list[int]]:
        """Map tensor name -> indices of the ops that read it, in schedule order."""
        users: dict[str, list[int]] = {}
        for i, op in enumerate(self.ops):
            for name in op.inputs:
                if name:
                    users.setdefault(name, []).append(i)
        return users

    def validate(self) -> "Graph":
        """Check every invariant (raise GraphError) and return self. The checks come from
        `add_validator`: ops/validate.py adds the op rules' one, as the IR knows no op."""
        if not _VALIDATORS:
            raise RuntimeError("Graph.validate needs the op rules: import toolchain.ops first")
        for check in _VALIDATORS:
            check(self)
        return self


_VALIDATORS: list[Callable[[Graph], None]] = []


def add_validator(check: Callable[[Graph], None]) -> Callable[[Graph], None]:
    """Register a whole-graph check that `Graph.validate` runs (a decorator)."""
    if check not in _VALIDATORS:
        _VALIDATORS.append(check)
    return check
