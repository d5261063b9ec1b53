"""The base class of op definitions: what an op file may override (shape rule, contract check,
numpy reference, TFLite options mapping, C lowering, MACs); `registry.register` adds one."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..ir import Node, Op, Tensor

Shape = tuple[int, ...]
Signature = tuple[tuple[str, str], ...]     # the (input, filter) dtype pairs a kernel serves


class OpDef:
    """Base class of op definitions. Subclasses override what applies to them.

    kind            registry key; the TFLite builtin operator name for TFLite ops
    tflite_options  name of the TFLite BuiltinOptions table (None: the op has none)
    uint8_ok        True for the few ops that take legacy uint8 activations
    signature       node -> its dtype pair, for ops whose kernels differ per dtype: `register`
                    then makes `reference` and `lower_c` run the `@variant` kernel registered
                    for that pair, and the op's own methods serve the pairs no variant claims
    own_dtypes      the dtype pairs the op's own reference / lower_c are written for
    shape_only      True when the outputs depend only on the input shapes (SHAPE): constant
                    folding replaces the op by its value
    variable_inputs indexes of inputs that are .tflite variable tensors (state)
    stateful        True when the op updates its variable inputs (SVDF, LSTM): `reference`
                    returns the outputs, then the new value of each variable input, which the
                    interpreter keeps between calls (interpreter.StatefulRun); never folded
    """

    kind: str = ""
    tflite_options: str | None = None
    uint8_ok: bool = False          # accepts legacy uint8 activations (QUANTIZE, DEQUANTIZE)
    signature: Callable[[Node], tuple[str, str]] | None = None
    own_dtypes: Signature = ()
    shape_only: bool = False
    variable_inputs: tuple[int, ...] = ()
    stateful: bool = False

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
        """The C kernel call for this node (a lowering.ccall.CCall); op files override it."""
        raise NotImplementedError(f"{node.op.kind}: no C runtime kernel (its op file has no "
                                  "lower_c)")

    @staticmethod
    def macs(node: Node) -> int:
        """Multiply-accumulates per inference (0 for data movement)."""
        return 0
