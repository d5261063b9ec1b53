"""The numpy reference executor: runs a Graph op by op with the registry's references."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import UsageError
from ..ir import Graph, GraphError
from ..ir.ranges import int_range, out_of_range
from . import registry
from .registry import Node

NP_DTYPES = {"float32": np.float32, "int8": np.int8, "uint8": np.uint8, "int16": np.int16,
             "int32": np.int32, "int64": np.int64, "bool": np.bool_}


def check_inputs(graph: Graph, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Inputs in graph order, checked for count, shape and dtype (a clear error otherwise)."""
    if len(inputs) != len(graph.inputs):
        raise UsageError(f"model has {len(graph.inputs)} inputs, got {len(inputs)} arrays")
    out = []
    for name, value in zip(graph.inputs, inputs):
        t = graph.tensors[name]
        value = np.asarray(value)
        if value.size != t.size:
            raise UsageError(f"input {name!r} expects shape {list(t.shape)} ({t.dtype}), "
                             f"got {list(value.shape)}")
        want = NP_DTYPES[t.dtype]
        if value.dtype != want:
            if not np.can_cast(value.dtype, want, "same_kind") or (
                    np.issubdtype(want, np.integer) and value.dtype.kind == "f"):
                raise UsageError(f"input {name!r} expects {t.dtype}, got {value.dtype}")
            span = out_of_range(value, t.dtype)
            if span is not None:
                low, high = int_range(t.dtype)
                raise UsageError(f"input {name!r} expects {t.dtype} values in [{low}, {high}], "
                                 f"got {value.dtype} values in [{span[0]}, {span[1]}]")
            value = value.astype(want)
        out.append(value.reshape(t.shape))
    return out


def run_graph(graph: Graph, inputs: Sequence[np.ndarray], keep_all: bool = False,
              state: dict[str, np.ndarray] | None = None):
    """Run the graph; returns outputs in graph order, or every tensor when keep_all.

    Stateful ops (SVDF, LSTM) read their variable inputs from `state` (tensor name -> value,
    filled from the tensors' initial values when missing) and write their new values back to it;
    without `state` each run starts from the initial values and forgets the update."""
    values: dict[str, np.ndarray] = dict(zip(graph.inputs, check_inputs(graph, inputs)))
    for name, t in graph.tensors.items():
        if t.is_const:
            values[name] = t.data
    for op in graph.ops:
        node = Node.of(graph, op)
        opdef = registry.get(op.kind)
        variables = [op.inputs[i] for i in opdef.variable_inputs if i < len(op.inputs)] \
            if opdef.stateful else []
        if state is not None:
            for name in variables:
                values[name] = state.setdefault(name, np.array(graph.tensors[name].data))
        args = [values[n] if n else None for n in op.inputs]
        results = opdef.reference(node, args)
        for t, value in zip(node.outs, results):
            value = np.asarray(value)
            if value.shape != t.shape or value.dtype != NP_DTYPES[t.dtype]:
                raise GraphError(f"reference of {op.kind} gave {value.dtype}{list(value.shape)} "
                                 f"for {t.name!r}, expected {t.dtype}{list(t.shape)}")
            values[t.name] = value
        if state is not None:
            for name, value in zip(variables, results[len(node.outs):]):
                state[name] = values[name] = np.asarray(value)
    if keep_all:
        return values
    return [values[n] for n in graph.outputs]


def has_state(graph: Graph) -> bool:
    """True when an op of the graph keeps state between invokes (SVDF, LSTM)."""
    return bool(state_names(graph))


def state_names(graph: Graph) -> list[str]:
    """The variable tensors stateful ops (SVDF, LSTM) keep between invokes, in op order."""
    names: list[str] = []
    for op in graph.ops:
        opdef = registry.get(op.kind)
        if opdef.stateful:
            names += [op.inputs[i] for i in opdef.variable_inputs
                      if i < len(op.inputs) and op.inputs[i] and op.inputs[i] not in names]
    return names


class StatefulRun:
    """The reference as a deployed model runs: state kept across calls, `reset()` returns it
    to the initial values (TFLM's ResetVariableTensors, the generated `_reset_state()`)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.state: dict[str, np.ndarray] = {}

    def __call__(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return run_graph(self.graph, inputs, state=self.state)

    def reset(self) -> None:
        self.state.clear()


def run_sequence(graph: Graph, steps) -> list[list[np.ndarray]]:
    """Outputs of each step of `steps` (input lists; None: reset the state, no output)."""
    run = StatefulRun(graph)
    outs = []
    for step in steps:
        if step is None:
            run.reset()
        else:
            outs.append(run(step))
    return outs
