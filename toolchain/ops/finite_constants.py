"""Graph check: float constants (weights, biases, operands) hold finite numbers only.

A NaN or infinite weight makes every output it reaches non-finite: the model compiles and runs,
to garbage. Registered with `ir.graph.add_validator`, so every frontend refuses it at load, and
the error names the tensor.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, GraphError
from ..ir.graph import add_validator


@add_validator
def check_finite_constants(graph: Graph) -> None:
    for name, t in graph.tensors.items():
        if not t.is_const or not np.issubdtype(np.asarray(t.data).dtype, np.floating):
            continue
        data = np.asarray(t.data)
        if np.isfinite(data).all():
            continue
        nan = int(np.isnan(data).sum())
        inf = int(np.isinf(data).sum())
        raise GraphError(f"constant {name!r} holds {nan} NaN and {inf} infinite values (of "
                         f"{data.size}); float weights must be finite")
