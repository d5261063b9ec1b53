"""Graph builder of the ONNX frontend: ONNX values, their layout, constants, emitted ops.

Every ONNX activation maps to one fitml tensor stored as `onnx_array.transpose(perm)`. Rank-4
activations are produced NHWC (perm NHWC); converters ask for the layout they need with
`tensor_in(name, perm)`, which inserts one cached TRANSPOSE only where the layout changes.
Constants stay numpy arrays in ONNX order until an op uses them.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import ModelError
from ..ir import Op, QuantParams, Tensor
from ..ops import registry
from .onnx_checks import check_elements
from .onnx_node import NHWC, OnnxNode, Value, compose, identity, inverse, natural

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1   # int64 constants become int32
FLOAT_TYPES = ("float16", "float32", "float64", "bfloat16")
# ops whose int8 output reuses the input's quantization when no QuantizeLinear follows
SAME_QUANT = ("RESHAPE", "TRANSPOSE", "SQUEEZE", "MAX_POOL_2D", "PAD", "PADV2",
              "STRIDED_SLICE", "RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", "DEPTH_TO_SPACE",
              "SPACE_TO_DEPTH", "GATHER_ND")


class Builder:
    """Accumulates tensors and ops; converters call its methods."""

    def __init__(self, opset: int, reserved: set[str]):
        self.opset = opset
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.values: dict[str, Value] = {}
        self.consts: dict[str, np.ndarray] = {}
        self.quant: dict[str, QuantParams] = {}     # QDQ: ONNX activation -> its quantization
        self.qconsts: dict[str, tuple[np.ndarray, QuantParams]] = {}   # QDQ: integer consts
        self.sequences: dict[str, list[str]] = {}   # SplitToSequence output -> its parts
        self.node: OnnxNode | None = None
        self.folded = 0                             # elements folded so far (onnx_fold.py)
        self._reserved = set(reserved)
        self._layouts: dict[tuple[str, tuple[int, ...]], str] = {}

    # --- errors and names -------------------------------------------------------------------
    def error(self, message: str) -> ModelError:
        n = self.node
        where = f"ONNX node {n.name!r} ({n.op_type}, opset {self.opset}): " if n else ""
        return ModelError(where + message)

    def fresh(self, base: str) -> str:
        name, i = base, 1
        while (name in self.tensors or name in self._reserved or name in self.consts
               or name in self.values):
            name, i = f"{base}_{i}", i + 1
        return name

    # --- constants ----------------------------------------------------------------------------
    def is_const(self, name: str) -> bool:
        return name in self.consts

    def const(self, name: str) -> np.ndarray:
        if name not in self.consts:
            raise self.error(f"input {name!r} must be a constant")
        return self.consts[name]

    def add_const(self, array, base: str) -> str:
        """Register a new ONNX-order constant (e.g. a negated operand); returns its name."""
        name = self.fresh(base)
        self.consts[name] = np.asarray(array)
        return name

    def materialize(self, name: str, perm: Sequence[int] | None = None,
                    lead: int = 0) -> str:
        """Constant `name` with `lead` leading 1-dims added, then transposed by `perm`; a
        QDQ constant keeps its integer data and quantization (its axis follows along)."""
        data, quant = self.qconsts.get(name, (self.consts[name], None))
        data = np.asarray(data).reshape((1,) * lead + np.shape(data))
        perm = identity(data.ndim) if perm is None else tuple(perm)
        if quant is not None and quant.axis is not None:
            quant = QuantParams(quant.scale, quant.zero_point, perm.index(quant.axis + lead))
        return self.const_tensor(np.transpose(data, perm), name, quant)

    def const_tensor(self, array, base: str, quant: QuantParams | None = None) -> str:
        """A new constant tensor (float -> float32, int64 -> int32) named after `base`."""
        data = np.asarray(array)
        if data.dtype.name in FLOAT_TYPES:
            data = data.astype(np.float32)
        elif data.dtype == np.int64:
            if data.size and (data.min() < INT32_MIN or data.max() > INT32_MAX):
                raise self.error(f"constant {base!r} holds values beyond int32 "
                                 f"[{data.min()}, {data.max()}]")
            data = data.astype(np.int32)
        data = np.ascontiguousarray(data)
        free = base in self.consts and base not in self.tensors   # an ONNX constant's name
        name = base if free else self.fresh(base)
        self.tensors[name] = Tensor(name, data.shape, str(data.dtype), data, quant)
        return name

    # --- activations --------------------------------------------------------------------------
    def shape(self, name: str) -> tuple[int, ...]:
        """The ONNX (unpermuted) shape of a value."""
        if name in self.consts:
            return tuple(self.consts[name].shape)
        v = self.value(name)
        stored = self.tensors[v.tensor].shape
        return tuple(stored[i] for i in inverse(v.perm))

    def value(self, name: str) -> Value:
        if name not in self.values:
            raise self.error(f"input {name!r} is not available (not produced by any "
                             "supported node output)")
        return self.values[name]

    def define(self, name: str, tensor: str, perm: Sequence[int]) -> None:
        self.values[name] = Value(tensor, tuple(perm))

    def tensor_in(self, name: str, perm: Sequence[int] | None = None) -> str:
        """The fitml tensor holding `name` as onnx.transpose(perm) (None: ONNX order)."""
        rank = len(self.shape(name))
        perm = identity(rank) if perm is None else tuple(perm)
        if name in self.consts:
            return self.materialize(name, perm)
        v = self.value(name)
        if v.perm == perm:
            return v.tensor
        key = (name, perm)
        if key not in self._layouts:
            q = compose(inverse(v.perm), perm)
            suffix = {NHWC: "nhwc", identity(rank): "onnx"}.get(perm, "T")
            self._layouts[key] = self.emit("TRANSPOSE", [v.tensor, self.ints(q, "perm")],
                                           base=f"{v.tensor}_{suffix}")
        return self._layouts[key]

    def plain(self, name: str) -> str:
        return self.tensor_in(name, None)

    def ints(self, values, base: str) -> str:
        return self.const_tensor(np.asarray(values, np.int64).reshape(-1), base)

    # --- ops ----------------------------------------------------------------------------------
    def emit(self, kind: str, inputs: Sequence[str], attrs: dict | None = None,
             out: str | None = None, perm: Sequence[int] | None = None, base: str = "",
             quant: QuantParams | None = None) -> str:
        """Append one op; its output tensor is named after ONNX value `out` (which it then
        defines, stored as onnx.transpose(perm)) or after `base`."""
        name = out if out is not None and out not in self.tensors else self.fresh(
            base or (out or kind.lower()))
        op = Op(kind, list(inputs), [name], attrs or {},
                name=self.node.name if self.node else "")
        ins = [self.tensors[i] if i else None for i in inputs]
        try:
            ((shape, dtype),) = registry.get(kind).infer(op, ins)
        except Exception as exc:
            raise self.error(f"cannot build {kind}: {exc}") from None
        try:   # a hostile Pad/Tile/Resize on an activation: refused before any allocation
            check_elements(shape, f"output {out or name!r}")
        except ModelError as exc:
            raise self.error(str(exc)) from None
        if quant is None and dtype == "int8":
            quant = self.quant.get(out) if out is not None else None
            if quant is None and kind in SAME_QUANT:
                quant = ins[0].quant
            if quant is None:
                raise self.error(f"int8 {kind} output {out or name!r} has no quantization "
                                 "(no QuantizeLinear follows it)")
        self.tensors[name] = Tensor(name, shape, dtype, quant=quant)
        self.ops.append(op)
        if out is not None:
            self.define(out, name, natural(len(shape)) if perm is None else perm)
        return name

    def reshape(self, tensor: str, shape: Sequence[int], out: str | None = None,
                base: str = "") -> str:
        """RESHAPE with both the shape operand and the new_shape attribute."""
        shape = tuple(int(d) for d in shape)
        return self.emit("RESHAPE", [tensor, self.ints(shape, "shape")],
                         dict(new_shape=shape), out=out, perm=identity(len(shape)),
                         base=base or f"{tensor}_reshape")

    def operand(self, name: str, rank: int, perm: Sequence[int]) -> str:
        """`name` right-aligned to `rank` dims (numpy broadcasting) and stored in `perm`."""
        shape = self.shape(name)
        if len(shape) < rank and (name in self.consts or perm != identity(rank)):
            padded = (1,) * (rank - len(shape)) + shape
            if name in self.consts:
                return self.materialize(name, perm, rank - len(shape))
            temp = self.fresh(f"{name}_rank{rank}")
            self.reshape(self.plain(name), padded, out=temp)
            return self.tensor_in(temp, perm)
        if len(shape) < rank:
            return self.plain(name)
        return self.tensor_in(name, perm)

    def rename(self, old: str, new: str) -> None:
        """Rename a tensor everywhere (used to give graph outputs their ONNX names)."""
        t = self.tensors.pop(old)
        self.tensors[new] = t.replace(name=new)
        swap = lambda names: [new if n == old else n for n in names]  # noqa: E731
        self.ops = [op.replace(inputs=swap(op.inputs), outputs=swap(op.outputs))
                    for op in self.ops]
        self.values = {k: Value(new if v.tensor == old else v.tensor, v.perm)
                       for k, v in self.values.items()}
