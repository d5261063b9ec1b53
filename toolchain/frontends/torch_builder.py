"""The PyTorch frontend's Builder: walks an ExportedProgram's ATen graph and emits NHWC fitml
ops; the converters (torch_*_ops.py) call its methods."""
from __future__ import annotations

import operator
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError
from ..ir import Op, Tensor
from ..ops import registry
from .torch_common import (CONVERTERS, FOLD_LIMIT, Value, compose, first_line, flat, identity,
                           inverse, lifted_constants, natural, target_name, to_numpy)


class Builder:
    """Walks the ATen graph; converters (torch_ops.py) call its methods to emit ops."""

    def __init__(self, where: str):
        self.where = where
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.values: dict[str, Any] = {}   # fx node name -> Value | ndarray | tuple | scalar
        self.node = None                   # the fx node being converted
        self.inputs: list[str] = []
        self._layouts: dict[tuple[str, tuple[int, ...]], str] = {}

    # --- errors and names -------------------------------------------------------------------
    def error(self, message: str) -> ModelError:
        n = self.node
        where = f"torch node {n.name!r} ({target_name(n)}): " if n is not None else ""
        return ModelError(f"{self.where}: {where}{message}")

    def fresh(self, base: str) -> str:
        name, i = base, 1
        while name in self.tensors:
            name, i = f"{base}_{i}", i + 1
        return name

    # --- the walk ---------------------------------------------------------------------------
    def convert(self, ep) -> tuple[list[str], list[str]]:
        consts = lifted_constants(ep)
        outputs: list[str] = []
        for node in ep.graph.nodes:
            self.node = node
            if node.op == "placeholder":
                self.values[node.name] = (consts[node.name] if node.name in consts
                                          else self._input(node))
            elif node.op == "call_function":
                self._call(node)
            elif node.op == "output":
                outputs = [self._output(a) for a in flat(node.args[0])]
            elif node.op != "get_attr":
                raise self.error(f"fx node kind {node.op!r} is not supported")
        self.node = None
        return self.inputs, outputs

    def _input(self, node) -> Value:
        val = node.meta.get("val")
        if val is None or not hasattr(val, "shape") or str(val.dtype) != "torch.float32":
            raise self.error(f"graph input must be a float32 tensor, got "
                             f"{getattr(val, 'dtype', type(val).__name__)}")
        if not all(isinstance(d, int) for d in val.shape):
            raise self.error(f"input shape {list(val.shape)} is dynamic; export the model "
                             "with static shapes (no dynamic_shapes)")
        shape = tuple(int(d) for d in val.shape)
        perm = natural(len(shape))
        self.tensors[node.name] = Tensor(node.name, tuple(shape[i] for i in perm), "float32")
        self.inputs.append(node.name)
        return Value(node.name, perm)

    def _output(self, arg) -> str:
        v = self.values.get(getattr(arg, "name", None))
        if not isinstance(v, Value):
            raise self.error(f"graph output {arg} is not computed from an input (a constant "
                             "or a non-tensor); nothing to compile")
        return self.tensor_in(v, natural(len(v.perm)))

    def _call(self, node) -> None:
        if node.target is operator.getitem:
            seq, index = self.arg(node.args[0]), node.args[1]
            item = seq[index] if isinstance(seq, (tuple, list)) else None
            if item is None:
                raise self.error(f"output {index} of {node.args[0]} is not supported")
            self.values[node.name] = item
            return
        raw = [self.arg(a) for a in node.args]
        kwargs = {k: self.arg(v) for k, v in node.kwargs.items()}
        if not any(isinstance(a, Value) for a in flat(raw) + flat(list(kwargs.values()))):
            self.values[node.name] = self._fold(node, raw, kwargs)
            return
        args = self._schema_args(node, raw, kwargs)
        name = target_name(node)
        fn = CONVERTERS.get(name)
        if fn is None:
            raise self.error(f"ATen op {name} is not supported; supported: "
                             f"{', '.join(sorted(CONVERTERS))}")
        result = fn(self, node, *args)
        self._check_shape(node, result)
        self.values[node.name] = result

    @staticmethod
    def _schema_args(node, args: list, kwargs: dict) -> list:
        """Positional and keyword arguments in schema order, defaults filled in."""
        schema = getattr(node.target, "_schema", None)
        if schema is None:
            return args
        full = []
        for i, a in enumerate(schema.arguments):
            if i < len(args):
                full.append(args[i])
            elif a.name in kwargs:
                full.append(kwargs[a.name])
            else:
                full.append(a.default_value if a.has_default_value() else None)
        return full

    def arg(self, a):
        if hasattr(a, "op") and hasattr(a, "name") and a.name in self.values:
            return self.values[a.name]
        if isinstance(a, (list, tuple)):
            return type(a)(self.arg(x) for x in a)
        return a

    def _fold(self, node, args, kwargs):
        """Evaluate an op whose tensor inputs are all constants with torch itself."""
        import torch  # lazy: torch is optional (fitml[torch])

        def to_torch(a):
            if isinstance(a, np.ndarray):
                return torch.from_numpy(np.array(a))
            if isinstance(a, (list, tuple)):
                return type(a)(to_torch(x) for x in a)
            return a
        size = sum(v.numel() * v.element_size() for v in flat(node.meta.get("val"))
                   if hasattr(v, "element_size"))
        if size > FOLD_LIMIT:
            raise self.error(f"folding constants would allocate {size} bytes (at most "
                             f"{FOLD_LIMIT})")
        try:
            with torch.no_grad():
                result = node.target(*[to_torch(a) for a in args],
                                     **{k: to_torch(v) for k, v in kwargs.items()})
        except Exception as exc:
            raise self.error(f"cannot evaluate on constant inputs: {first_line(exc)}") from None
        return to_numpy(result)

    def _check_shape(self, node, result) -> None:
        vals = node.meta.get("val")
        pairs = zip(result, vals) if isinstance(result, tuple) else [(result, vals)]
        for value, val in pairs:
            if not isinstance(value, Value) or not hasattr(val, "shape"):
                continue
            if str(val.dtype) not in ("torch.float32", "torch.bool"):   # bool: comparisons
                raise self.error(f"produces a {val.dtype} tensor; only float32 (and bool) "
                                 "activations are supported")
            want, got = tuple(int(d) for d in val.shape), self.shape(value)
            if want != got:
                raise self.error(f"converted to shape {list(got)}, torch says {list(want)} "
                                 "(a frontend bug)")

    # --- values and constants ---------------------------------------------------------------
    def shape(self, v) -> tuple[int, ...]:
        """The torch (unpermuted) shape of a Value or constant."""
        if isinstance(v, Value):
            stored = self.tensors[v.tensor].shape
            return tuple(stored[i] for i in inverse(v.perm))
        return tuple(np.shape(v))

    def out_shape(self, node) -> tuple[int, ...]:
        """The shape torch recorded for the (first) output of fx node `node`."""
        val = node.meta["val"]
        val = val[0] if isinstance(val, (list, tuple)) else val
        return tuple(int(d) for d in val.shape)

    def const_tensor(self, array, base: str) -> str:
        """A new constant tensor (floats -> float32, int64 -> int32)."""
        data = np.asarray(array)
        if data.dtype.kind == "f":
            data = data.astype(np.float32)
        elif data.dtype == np.int64:
            data = data.astype(np.int32)
        data = np.ascontiguousarray(data)
        name = self.fresh(base)
        self.tensors[name] = Tensor(name, data.shape, str(data.dtype), data)
        return name

    def ints(self, values, base: str) -> str:
        return self.const_tensor(np.asarray(values, np.int32).reshape(-1), base)

    def tensor_in(self, v, perm: Sequence[int] | None = None) -> str:
        """The tensor holding `v` as torch_value.permute(perm) (None: torch order)."""
        rank = len(self.shape(v))
        perm = identity(rank) if perm is None else tuple(perm)
        if not isinstance(v, Value):
            return self.const_tensor(np.transpose(np.asarray(v), perm), f"{self.node.name}_c")
        if v.perm == perm:
            return v.tensor
        q = compose(inverse(v.perm), perm)
        key = (v.tensor, q)
        if key not in self._layouts:
            stored = self.tensors[v.tensor].shape
            moved = [i for i in q if stored[i] != 1]
            if moved == sorted(moved):   # only size-1 dims move: same bytes
                t = self.reshape(v.tensor, [stored[i] for i in q], f"{v.tensor}_r")
            else:
                t = self.emit("TRANSPOSE", [v.tensor, self.ints(q, "perm")],
                              base=f"{v.tensor}_t").tensor
            self._layouts[key] = t
        return self._layouts[key]

    def in_memory_order(self, v: Value) -> bool:
        """True when the stored bytes of `v` are in torch's element order."""
        shape = self.shape(v)
        kept = [p for p in v.perm if shape[p] != 1]
        return kept == sorted(kept)

    # --- ops --------------------------------------------------------------------------------
    def emit(self, kind: str, inputs: Sequence[str], attrs: dict | None = None,
             perm: Sequence[int] | None = None, base: str = "") -> Value:
        """Append one op; returns its output as a Value stored in `perm` (default natural)."""
        name = self.fresh(base or self.node.name)
        op = Op(kind, list(inputs), [name], attrs or {}, name=self.node.name)
        ins = [self.tensors[i] if i else None for i in inputs]
        try:
            ((shape, dtype),) = registry.get(kind).infer(op, ins)
        except Exception as exc:
            raise self.error(f"cannot build {kind}: {exc}") from None
        self.tensors[name] = Tensor(name, shape, dtype)
        self.ops.append(op)
        return Value(name, tuple(perm) if perm is not None else natural(len(shape)))

    def reshape(self, tensor: str, shape: Sequence[int], base: str = "") -> str:
        shape = tuple(int(d) for d in shape)
        return self.emit("RESHAPE", [tensor, self.ints(shape, "shape")], dict(new_shape=shape),
                         perm=identity(len(shape)), base=base).tensor
