"""One operator application in the graph: kind, tensor names in and out, frozen attributes."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    return value


@dataclass(frozen=True)
class Op:
    """`inputs` may hold "" for an absent optional input (e.g. a convolution without bias)."""

    kind: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self):
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "attrs", _freeze(dict(self.attrs)))

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    def replace(self, **changes) -> "Op":
        fields = dict(kind=self.kind, inputs=self.inputs, outputs=self.outputs,
                      attrs=dict(self.attrs), name=self.name)
        fields.update(changes)
        return Op(**fields)
