"""Graph invariants: topology, shapes and dtypes by the op registry, quantization parameters."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, GraphError, Tensor
from ..ir.graph import add_validator
from . import registry
from ..ir.ranges import quant_problem


def _check_quant(t: Tensor) -> None:
    q = t.quant
    if q is None:
        if t.dtype in ("int8", "uint8", "int16", "int4") and not t.is_const:
            raise GraphError(f"tensor {t.name!r}: {t.dtype} activation has no quantization")
        return
    if q.scale.shape != q.zero_point.shape and q.zero_point.size != 1:
        raise GraphError(f"tensor {t.name!r}: {q.scale.size} scales but "
                         f"{q.zero_point.size} zero points")
    if not np.all(np.isfinite(q.scale)) or np.any(q.scale <= 0):
        raise GraphError(f"tensor {t.name!r}: scales must be finite and > 0")
    problem = quant_problem(q, t.dtype)
    if problem:
        raise GraphError(f"tensor {t.name!r}: {problem}")
    if q.axis is not None and q.scale.size > 1:
        if not -len(t.shape) <= q.axis < len(t.shape):
            raise GraphError(f"tensor {t.name!r}: quantized axis {q.axis} out of range")
        if t.shape[q.axis] != q.scale.size:
            raise GraphError(f"tensor {t.name!r}: {q.scale.size} scales for "
                             f"{t.shape[q.axis]} channels on axis {q.axis}")


SHAPE_VALUE_LIMIT = 64     # elements of an int vector the validator evaluates (shape math)


def static_value(opdef, op, ins, outs, known: dict) -> None:
    """Record the outputs of `op` in `known` when they are small int vectors computable now:
    a SHAPE (`shape_only`) or an op on constants fed by one, so that a RESHAPE whose shape a
    SHAPE -> STRIDED_SLICE -> PACK chain computes validates (fold_constants folds it later)."""
    present = [t for t in ins if t is not None]
    derived = any(t.name in known for t in present)
    if not (opdef.shape_only or (derived and all(t.is_const for t in present))):
        return
    if any(t.dtype not in ("int32", "int64") or t.size > SHAPE_VALUE_LIMIT for t in outs):
        return
    values = opdef.reference(registry.Node(op, tuple(ins), tuple(outs)),
                             [t.data if t is not None else None for t in ins])
    for t, value in zip(outs, values):
        known[t.name] = t.replace(data=np.asarray(value, t.dtype).reshape(t.shape))


@add_validator
def validate_graph(graph: Graph) -> None:
    known: dict[str, Tensor] = {}     # outputs of shape math, by value
    defined = set(graph.inputs)
    for name, t in graph.tensors.items():
        if name != t.name:
            raise GraphError(f"tensor stored as {name!r} is named {t.name!r}")
        if any(d < 0 for d in t.shape):
            raise GraphError(f"tensor {name!r}: negative dimension in {t.shape}")
        if t.is_const:
            defined.add(name)
            if tuple(t.data.shape) != t.shape and t.dtype != "int4":
                raise GraphError(f"constant {name!r}: data shape {t.data.shape} != {t.shape}")
        _check_quant(t)
    for name in graph.inputs + graph.outputs:
        if name not in graph.tensors:
            raise GraphError(f"graph input/output {name!r} is not a tensor")
    for index, op in enumerate(graph.ops):
        where = f"op {index} ({op.kind}, output {op.outputs[0] if op.outputs else '?'!r})"
        for name in op.inputs:
            if name and name not in defined:
                raise GraphError(f"{where}: input {name!r} is not defined before use")
        opdef = registry.get(op.kind)
        ins = tuple(known.get(t.name, t) if t is not None else None
                    for t in graph.op_inputs(op))
        try:
            expected = opdef.infer(op, ins)
        except GraphError as exc:
            raise GraphError(f"{where}: {exc}") from None
        except Exception as exc:  # malformed operands (wrong rank, missing constant, ...)
            raise GraphError(f"{where}: invalid operands ({type(exc).__name__}: {exc})") from None
        if len(expected) != len(op.outputs):
            raise GraphError(f"{where}: {len(op.outputs)} outputs, expected {len(expected)}")
        for name, (shape, dtype) in zip(op.outputs, expected):
            if name in defined:
                raise GraphError(f"{where}: output {name!r} is written twice")
            out = graph.tensors.get(name)
            if out is None:
                raise GraphError(f"{where}: output {name!r} is not a tensor")
            if tuple(shape) != out.shape or dtype != out.dtype:
                raise GraphError(f"{where}: output {name!r} is {out.dtype}{list(out.shape)}, "
                                 f"inferred {dtype}{list(shape)}")
            defined.add(name)
        try:
            opdef.check(op, ins, graph.op_outputs(op))
            static_value(opdef, op, ins, graph.op_outputs(op), known)
        except GraphError as exc:
            raise GraphError(f"{where}: {exc}") from None
        except Exception as exc:
            raise GraphError(f"{where}: invalid operands ({type(exc).__name__}: {exc})") from None
    for name in graph.outputs:
        if graph.tensors[name].is_const:
            raise GraphError(f"graph output {name!r} is a constant, not computed from the "
                             "inputs; fitml compiles outputs that operators compute")
        if name not in defined:
            raise GraphError(f"graph output {name!r} is never computed")
