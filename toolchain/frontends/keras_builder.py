"""What every Keras layer converter uses: the registries and the builder.

Converters register per Keras layer class with `@layer` (and activation functions by their
Keras name with `@activation`), saying which op kinds they emit; `KerasBuilder` accumulates
tensors and ops, inferring shapes through the op registry. `fused` emits an op with its
activation fused when TFLite's int8 kernels support it, else the op and then the activation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import ModelError
from ..ir import GraphError, Op, Tensor
from ..ops import registry

# class name -> (converter(builder, layer, inputs) -> outputs, op kinds it needs)
LAYERS: dict[str, tuple[Callable, tuple[str, ...]]] = {}
ACTIVATIONS: dict[str, tuple[Callable, tuple[str, ...]]] = {}
FUSABLE = {"relu": "RELU", "relu6": "RELU6"}  # fused activations TFLite's int8 kernels support


def layer(*classes: str, needs: tuple[str, ...] = ()):
    """Register a converter for Keras layer classes; `needs`: op kinds it emits."""
    def wrap(fn):
        for c in classes:
            LAYERS[c] = (fn, needs)
        return fn
    return wrap


def activation(*names: str, needs: tuple[str, ...] = ()):
    """Register an activation function (by its Keras name) as ops on one tensor."""
    def wrap(fn):
        for n in names:
            ACTIVATIONS[n] = (fn, needs)
        return fn
    return wrap


def available(table: dict) -> list[str]:
    """Keys whose required op kinds are all registered."""
    have = registry.all_defs()
    return sorted(k for k, (_, needs) in table.items() if all(n in have for n in needs))


@dataclass
class Layer:
    """One Keras layer being converted: class, name, config and the loaded layer object."""

    cls: str
    name: str
    config: dict
    obj: Any

    def get(self, key: str, default: Any = None) -> Any:
        value = self.config.get(key, default)
        return default if value is None else value

    def weights(self) -> list[np.ndarray]:
        return [np.asarray(w, np.float32) for w in self.obj.get_weights()]


class KerasBuilder:
    """Accumulates tensors and ops; converters call `const`, `emit` and `error`."""

    def __init__(self, where: str, keras2: bool):
        self.where, self.keras2 = where, keras2
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.layer: Layer | None = None

    def error(self, message: str) -> ModelError:
        at = f" layer {self.layer.name!r} ({self.layer.cls})" if self.layer else ""
        return ModelError(f"{self.where}:{at}: {message}")

    def fresh(self, base: str) -> str:
        name, i = base, 1
        while name in self.tensors:
            name, i = f"{base}_{i}", i + 1
        return name

    def shape(self, name: str) -> tuple[int, ...]:
        return self.tensors[name].shape

    def add_input(self, name: str, shape) -> str:
        name = self.fresh(name)
        self.tensors[name] = Tensor(name, tuple(shape), "float32")
        return name

    def const(self, array, base: str, dtype: str = "float32") -> str:
        name = self.fresh(base)
        data = np.ascontiguousarray(np.asarray(array, dtype=dtype))
        self.tensors[name] = Tensor(name, data.shape, dtype, data=data)
        return name

    def emit(self, kind: str, inputs, attrs: dict | None = None, suffix: str = "") -> str:
        """Append one op; its output shape is the registry's inference."""
        if kind not in registry.all_defs():
            raise self.error(f"needs op {kind}, which fitml does not implement")
        op = Op(kind, tuple(inputs), ("",), attrs or {}, name=self.layer.name)
        try:
            (shape, dtype), = registry.get(kind).infer(op, [self.tensors.get(n) for n in inputs])
        except GraphError as exc:
            raise self.error(str(exc)) from None
        out = self.fresh(self.layer.name + suffix)
        self.tensors[out] = Tensor(out, shape, dtype)
        self.ops.append(op.replace(outputs=(out,)))
        return out


def act_name(L: Layer, key: str = "activation") -> str:
    """The Keras name of the layer's activation function ("linear" when none)."""
    value = L.config.get(key) or "linear"
    if not isinstance(value, str):             # Keras 3 may serialize a function as a dict
        value = getattr(getattr(L.obj, key, None), "__name__", repr(value))
    return value


def apply_activation(b: KerasBuilder, x: str, name: str, suffix: str = "") -> str:
    if name not in ACTIVATIONS:
        raise b.error(f"activation {name!r} is not supported; supported: "
                      f"{', '.join(available(ACTIVATIONS))}")
    return ACTIVATIONS[name][0](b, x, suffix)


def fused(b: KerasBuilder, L: Layer, kind: str, inputs, attrs: dict) -> str:
    """An op with a fused activation when TFLite has it, else op + activation op."""
    act = act_name(L)
    if act in FUSABLE:
        return b.emit(kind, inputs, dict(attrs, activation=FUSABLE[act]))
    if act == "linear":
        return b.emit(kind, inputs, dict(attrs, activation="NONE"))
    pre = b.emit(kind, inputs, dict(attrs, activation="NONE"), "/preact")
    return apply_activation(b, pre, act)
