"""Graph check: float constants (weights, biases, operands) hold finite numbers only.

A NaN or infinite weight makes every output it reaches non-finite: the model compiles and runs,
to garbage. Registered with `ir.graph.add_validator`, so every frontend refuses it at load, and
the error names the tensor. One exception: a PADV2's pad value may be -inf or +inf (the
TFLite converter pads with -inf before a max pool: the pad never wins the max).
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, GraphError
from ..ir.graph import add_validator


def _pad_values(graph: Graph) -> set[str]:
    """Constants read only as a PADV2's pad value (its third input)."""
    pads = {op.inputs[2] for op in graph.ops if op.kind == "PADV2" and len(op.inputs) > 2}
    other = {n for op in graph.ops for i, n in enumerate(op.inputs)
             if not (op.kind == "PADV2" and i == 2)}
    return pads - other


@add_validator
def check_finite_constants(graph: Graph) -> None:
    pad_values = None
    for name, t in graph.tensors.items():
        if not t.is_const or not np.issubdtype(np.asarray(t.data).dtype, np.floating):
            continue
        data = np.asarray(t.data)
        if np.isfinite(data).all():
            continue
        if not np.isnan(data).any():
            pad_values = _pad_values(graph) if pad_values is None else pad_values
            if name in pad_values:
                continue
        nan = int(np.isnan(data).sum())
        inf = int(np.isinf(data).sum())
        raise GraphError(f"constant {name!r} holds {nan} NaN and {inf} infinite values (of "
                         f"{data.size}); float weights must be finite")
