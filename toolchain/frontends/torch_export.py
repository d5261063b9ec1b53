"""PyTorch frontend: nn.Module (or a `.pt2` from torch.export.save) -> float32 fitml Graph.

Path: `torch.export.export(module.eval(), example_inputs)`, then `run_decompositions` to core
ATen except for a few ops kept whole (linear, hardswish, hardsigmoid), then one converter per
ATen op (torch_ops.py) emits NHWC ops with TFLite semantics, then the CLEANUP passes fold
BatchNorm into conv/linear and fuse RELU/RELU6/RELU_N1_TO_1 into their producer. When
torch.export fails on a module, the module goes through `torch.onnx.export` and the ONNX
frontend instead; `graph.metadata["frontend"]` says which path was taken.

Layout: PyTorch is NCHW, fitml NHWC. Rank-4 graph inputs and outputs are NHWC: feed
`x.permute(0, 2, 3, 1)` and read rank-4 outputs as NHWC. Other ranks keep torch's order.
Inside, every torch value is one fitml tensor stored as `torch_value.permute(perm)`; a
TRANSPOSE (or a RESHAPE when only size-1 dims move) is inserted only where an op needs another
order, e.g. NHWC -> NCHW before a flatten, so element order matches PyTorch.
torch is imported lazily: only when a torch model is loaded.
"""
from __future__ import annotations

import io
import operator
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError
from ..ir import Graph, GraphError, Op, Tensor
from ..ops import registry
from ..passes.pipeline import CLEANUP, run_pipeline
from .pt2_archive import check_pt2, quiet_load

NHWC = (0, 2, 3, 1)   # stored = torch.permute(NHWC) for a rank-4 activation
KEEP_WHOLE = ("linear", "hardswish", "hardsigmoid")
FOLD_LIMIT = 256 << 20   # bytes a constant-folded op may allocate (sizes come from the file)
CONVERTERS: dict[str, Any] = {}   # "aten.<op>.<overload>" -> converter(builder, node, *args)


def converter(*targets: str):
    """Register a function as the converter of the given ATen op overloads."""
    def wrap(fn):
        for t in targets:
            if t in CONVERTERS:
                raise TypeError(f"torch converter for {t} registered twice")
            CONVERTERS[t] = fn
        return fn
    return wrap


def identity(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


def natural(rank: int) -> tuple[int, ...]:
    return NHWC if rank == 4 else identity(rank)


def inverse(p: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(p))


def compose(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """x.transpose(a).transpose(b) == x.transpose(compose(a, b))."""
    return tuple(int(a[i]) for i in b)


@dataclass(frozen=True)
class Value:
    """A torch activation: fitml tensor `tensor` holds torch_value.permute(perm)."""

    tensor: str
    perm: tuple[int, ...]


def load_torch(source, example_inputs=None) -> Graph:
    """A validated float32 Graph from an nn.Module (+ example inputs), an ExportedProgram or
    a `.pt2` path. torch's own warnings (deprecations, tracer notes) are silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _load(source, example_inputs)


def _load(source, example_inputs) -> Graph:
    import torch  # lazy: torch is optional (fitml[torch])

    if isinstance(source, (str, Path)):
        where = str(source)
        if not Path(where).is_file():
            raise ModelError(f"{where}: no such file")
        check_pt2(Path(where))   # nothing torch would unpickle, eval or dlopen
        try:
            with quiet_load():
                ep = torch.export.load(where)
        except Exception as exc:
            raise ModelError(f"{where}: not a readable torch.export archive "
                             f"({_first_line(exc)})") from None
        graph = convert_program(ep, Path(where).name, "torch.export")
        return graph.replace(metadata=dict(graph.metadata, path=where))
    if isinstance(source, torch.export.ExportedProgram):
        return convert_program(source, "ExportedProgram", "torch.export")
    if not isinstance(source, torch.nn.Module):
        raise ModelError(f"cannot load a {type(source).__name__} as a torch model")
    where = type(source).__name__
    inputs = _example_inputs(example_inputs, where)
    module = source.eval()
    try:
        with torch.no_grad():
            ep = torch.export.export(module, inputs)
    except Exception as exc:  # data-dependent control flow, untraceable Python, ...
        return _onnx_fallback(module, inputs, where, exc)
    return convert_program(ep, where, "torch.export")


def _example_inputs(example_inputs, where: str) -> tuple:
    import torch  # lazy: torch is optional (fitml[torch])

    if example_inputs is None:
        raise ModelError(f"{where}: a torch module needs example_inputs (a tuple of tensors)")
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    inputs = tuple(torch.as_tensor(x) for x in example_inputs)
    for i, x in enumerate(inputs):
        if x.dtype != torch.float32:
            raise ModelError(f"{where}: example input {i} is {x.dtype}; only float32 inputs "
                             "are supported")
    return inputs


def _onnx_fallback(module, inputs: tuple, where: str, cause: Exception) -> Graph:
    """torch.export failed: export to ONNX (TorchScript tracing) and use the ONNX frontend."""
    import torch  # lazy: torch is optional (fitml[torch])

    reason = _first_line(cause)
    try:
        from .onnx import load_onnx
    except ImportError as exc:
        raise ModelError(f"{where}: torch.export failed ({reason}) and the ONNX fallback is "
                         f"unavailable ({exc})") from None
    buf = io.BytesIO()
    try:
        with torch.no_grad():
            torch.onnx.export(module, inputs, buf, dynamo=False, external_data=False)
    except Exception as exc:
        raise ModelError(f"{where}: torch.export failed ({reason}); ONNX export failed too "
                         f"({_first_line(exc)})") from None
    try:
        graph = load_onnx(buf.getvalue())
    except ModelError as exc:
        raise ModelError(f"{where}: torch.export failed ({reason}); through ONNX: "
                         f"{exc}") from None
    meta = dict(graph.metadata, source=where, format="torch", frontend="torch.onnx",
                export_error=reason)
    return graph.replace(metadata=meta)


def decompose(ep):
    """Core ATen, keeping conv/batch_norm (already core) and KEEP_WHOLE ops whole."""
    import torch  # lazy: torch is optional (fitml[torch])

    table = torch.export.default_decompositions()
    for name in KEEP_WHOLE:
        op = getattr(torch.ops.aten, name).default
        if op in table:
            del table[op]
    return ep.run_decompositions(table)


def convert_program(ep, where: str, frontend: str, cleanup: bool = True) -> Graph:
    """Convert an ExportedProgram into a validated Graph.

    cleanup: run the CLEANUP passes (fold BatchNorm, fuse activations, merge reshapes and
    transposes); False returns the literal translation."""
    # importing the converter modules registers the converters
    from . import (torch_activation_ops, torch_conv_ops, torch_ops,  # noqa: F401
                   torch_pool_ops, torch_shape_ops)

    try:
        ep = decompose(ep)
    except Exception as exc:
        raise ModelError(f"{where}: run_decompositions failed ({_first_line(exc)})") from None
    b = Builder(where)
    inputs, outputs = b.convert(ep)
    graph = Graph.build(b.tensors.values(), b.ops, inputs, outputs,
                        {"source": where, "format": "torch", "frontend": frontend})
    try:
        graph = _used_only(graph).validate()
        if cleanup:
            graph = run_pipeline(graph, CLEANUP)
        return graph
    except GraphError as exc:
        raise ModelError(f"{where}: {exc}") from None


def _used_only(graph: Graph) -> Graph:
    """Drop ops whose outputs nothing reads (unused split parts, ...) and unused constants."""
    live = set(graph.outputs)
    keep = []
    for op in reversed(graph.ops):
        if any(o in live for o in op.outputs):
            keep.append(op)
            live.update(n for n in op.inputs if n)
    live.update(graph.inputs)
    tensors = [t for n, t in graph.tensors.items() if n in live]
    return graph.replace(ops=tuple(reversed(keep)), tensors=tensors)


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
        where = f"torch node {n.name!r} ({_target_name(n)}): " if n is not None else ""
        return ModelError(f"{self.where}: {where}{message}")

    def fresh(self, base: str) -> str:
        name, i = base, 1
        while name in self.tensors:
            name, i = f"{base}_{i}", i + 1
        return name

    # --- the walk ---------------------------------------------------------------------------
    def convert(self, ep) -> tuple[list[str], list[str]]:
        consts = _lifted_constants(ep)
        outputs: list[str] = []
        for node in ep.graph.nodes:
            self.node = node
            if node.op == "placeholder":
                self.values[node.name] = (consts[node.name] if node.name in consts
                                          else self._input(node))
            elif node.op == "call_function":
                self._call(node)
            elif node.op == "output":
                outputs = [self._output(a) for a in _flat(node.args[0])]
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
        if not any(isinstance(a, Value) for a in _flat(raw) + _flat(list(kwargs.values()))):
            self.values[node.name] = self._fold(node, raw, kwargs)
            return
        args = self._schema_args(node, raw, kwargs)
        name = _target_name(node)
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
        size = sum(v.numel() * v.element_size() for v in _flat(node.meta.get("val"))
                   if hasattr(v, "element_size"))
        if size > FOLD_LIMIT:
            raise self.error(f"folding constants would allocate {size} bytes (at most "
                             f"{FOLD_LIMIT})")
        try:
            with torch.no_grad():
                result = node.target(*[to_torch(a) for a in args],
                                     **{k: to_torch(v) for k, v in kwargs.items()})
        except Exception as exc:
            raise self.error(f"cannot evaluate on constant inputs: {_first_line(exc)}") from None
        return _to_numpy(result)

    def _check_shape(self, node, result) -> None:
        vals = node.meta.get("val")
        pairs = zip(result, vals) if isinstance(result, tuple) else [(result, vals)]
        for value, val in pairs:
            if not isinstance(value, Value) or not hasattr(val, "shape"):
                continue
            if str(val.dtype) != "torch.float32":
                raise self.error(f"produces a {val.dtype} tensor; only float32 activations "
                                 "are supported")
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


def _first_line(exc: Exception) -> str:
    """`Type: first line of the message` (at most 200 characters of it)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200] if lines else ''}"


def _target_name(node) -> str:
    t = node.target
    return str(t) if not callable(t) or hasattr(t, "_schema") else getattr(t, "__name__", str(t))


def _flat(a) -> list:
    if isinstance(a, (list, tuple)):
        return [y for x in a for y in _flat(x)]
    return [a]


def _to_numpy(x):
    import torch  # lazy: torch is optional (fitml[torch])

    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.is_floating_point():
            x = x.float()
        return x.numpy().copy()
    if isinstance(x, (list, tuple)):
        return tuple(_to_numpy(y) for y in x)
    return x


def _lifted_constants(ep) -> dict[str, np.ndarray]:
    """Placeholder name -> numpy data for parameters, buffers and lifted constants."""
    out = {}
    for spec in ep.graph_signature.input_specs:
        kind = spec.kind.name
        if kind == "USER_INPUT":
            continue
        if kind not in ("PARAMETER", "BUFFER", "CONSTANT_TENSOR"):
            raise ModelError(f"graph input {spec.arg.name!r} of kind {kind} is not supported")
        data = ep.state_dict.get(spec.target)
        if data is None:
            data = ep.constants.get(spec.target)
        if data is None:
            raise ModelError(f"no data for {kind.lower()} {spec.target!r}")
        out[spec.arg.name] = _to_numpy(data)
    return out


def supported() -> list[str]:
    from . import (torch_activation_ops, torch_conv_ops, torch_ops,  # noqa: F401
                   torch_pool_ops, torch_shape_ops)
    return sorted(CONVERTERS)


__all__ = ["load_torch", "convert_program", "supported", "Value", "NHWC"]
