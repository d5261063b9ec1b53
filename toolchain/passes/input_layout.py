"""NHWC inputs for models that take NCHW and transpose it first (PyTorch / ONNX conversions):
the caller feeds the NHWC tensor the model computes on, and the TRANSPOSE disappears.

`nhwc_inputs` is the pass behind `--input-layout nhwc`. It changes the model's interface (the
input's shape), so it runs only when asked, never in the CLEANUP pipeline. Without it the
TRANSPOSE stays: it moves each input byte once (about 0.3% of MobileNetV2's instructions), and
a first kernel reading NCHW would need an NCHW variant of every windowed kernel.
"""
from __future__ import annotations

import json

from ..errors import UsageError
from ..ir import Graph
from .edit import prune
from .layout import const_data

NCHW_TO_NHWC = [0, 2, 3, 1]
LAYOUTS = ("nhwc",)


def _transpose_of(graph: Graph, name: str):
    """The op index of the one NCHW -> NHWC TRANSPOSE reading input `name`, else None."""
    readers = [i for i, op in enumerate(graph.ops) if name in op.inputs]
    if len(readers) != 1 or name in graph.outputs:
        return None
    op = graph.ops[readers[0]]
    perm = const_data(graph, op.inputs[1]) if op.kind == "TRANSPOSE" else None
    if perm is None or [int(p) for p in perm] != NCHW_TO_NHWC or op.inputs[0] != name:
        return None
    return readers[0]


def nhwc_inputs(graph: Graph) -> Graph:
    """Each rank-4 input read only by a TRANSPOSE to NHWC is replaced by that TRANSPOSE's
    output. The graph's metadata "input_layout" (JSON: layout, inputs changed with their NCHW
    name and shape; see `layout_info`) says so. UsageError when no input is such an input."""
    inputs, changed, drop = list(graph.inputs), [], set()
    for k, name in enumerate(graph.inputs):
        i = _transpose_of(graph, name)
        if i is None or len(graph.tensors[name].shape) != 4:
            continue
        new = graph.ops[i].outputs[0]
        if new in graph.outputs or new in inputs:
            continue
        inputs[k] = new
        drop.add(i)
        changed.append({"input": new, "shape": list(graph.tensors[new].shape), "was": name,
                        "nchw_shape": list(graph.tensors[name].shape)})
    if not changed:
        raise UsageError("--input-layout nhwc: no model input is NCHW followed by a TRANSPOSE "
                         "to NHWC; the inputs " + ", ".join(
                             f"{n}{list(graph.tensors[n].shape)}" for n in graph.inputs)
                         + " are read as they are (fitml's own layout is NHWC)")
    ops = [op for i, op in enumerate(graph.ops) if i not in drop]
    meta = dict(graph.metadata, input_layout=json.dumps({"layout": "nhwc", "inputs": changed}))
    return prune(graph.replace(ops=tuple(ops), inputs=tuple(inputs), metadata=meta))


def layout_info(graph: Graph) -> dict | None:
    """What nhwc_inputs changed ({"layout", "inputs": [{input, shape, was, nchw_shape}]}), or
    None when the inputs are the model's own."""
    text = graph.metadata.get("input_layout")
    return json.loads(text) if text else None


def with_input_layout(graph: Graph, layout: str | None) -> Graph:
    """`graph` with the --input-layout asked for (None: as the model declares)."""
    if layout is None:
        return graph
    if layout not in LAYOUTS:
        raise UsageError(f"--input-layout {layout!r}: supported: {', '.join(LAYOUTS)}")
    return nhwc_inputs(graph)
