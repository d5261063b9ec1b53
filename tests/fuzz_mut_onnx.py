"""Structure-aware .onnx mutators: edit the ModelProto (initializer dims and data, node
attributes, inputs and op types, graph I/O, opset, external data) and re-serialize."""
from __future__ import annotations

import random

import numpy as np
from onnx import AttributeProto, ModelProto, TensorProto, numpy_helper

from fuzz_mutators import HUGE, Skip

HOSTILE_NAMES = ("*/ #error injected /*", "a\nb", "../../etc/x", "x" * 100_000, "")
OP_TYPES = ("Conv", "Relu", "Gemm", "MatMul", "Add", "Reshape", "Loop", "If", "Scan",
            "NonZero", "Resize", "Foo", "", "Softmax", "MaxPool", "Transpose", "Constant")


def _load(data: bytes) -> ModelProto:
    model = ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:
        raise Skip from None
    return model


def _pick(items, rng):
    if not len(items):
        raise Skip
    i = rng.randrange(len(items))
    return i, items[i]


def _initializer_dims(model, rng):
    _, init = _pick(model.graph.initializer, rng)
    dims = list(init.dims)
    how = rng.choice(("dim", "dim", "drop", "add"))
    if how == "dim" and dims:
        dims[rng.randrange(len(dims))] = rng.choice((0, -1, -5, 2**31 - 1) + HUGE[2:])
    elif how == "drop" and dims:
        dims.pop()
    else:
        dims.append(rng.choice((1, 2, 0)))
    del init.dims[:]
    init.dims.extend(dims)
    return f"initializer {init.name!r} dims -> {dims}"


def _initializer_data(model, rng):
    _, init = _pick(model.graph.initializer, rng)
    how = rng.choice(("truncate", "extend", "dtype", "empty", "external", "values"))
    raw = init.raw_data or numpy_helper.to_array(init).tobytes()
    init.ClearField("float_data")
    init.raw_data = raw
    if how == "truncate":
        init.raw_data = raw[: rng.randrange(max(len(raw), 1))]
    elif how == "extend":
        init.raw_data = raw + raw[:8]
    elif how == "dtype":
        init.data_type = rng.choice((0, 2, 3, 6, 7, 8, 9, 10, 11, 16, 17, 99))
    elif how == "empty":
        init.ClearField("raw_data")
    elif how == "external":
        init.data_location = TensorProto.EXTERNAL
        del init.external_data[:]
        for key, value in (("location", rng.choice(("/etc/passwd", "../../x.bin", "w.bin"))),
                           ("offset", "0"), ("length", str(len(raw)))):
            entry = init.external_data.add()
            entry.key, entry.value = key, value
        init.ClearField("raw_data")
    else:
        arr = np.frombuffer(raw, np.uint8).copy()
        arr[:] = np.random.default_rng(rng.randrange(2**32)).integers(0, 256, arr.size)
        init.raw_data = arr.tobytes()
    return f"initializer {init.name!r} data {how}"


def _attribute(model, rng):
    nodes = [n for n in model.graph.node if n.attribute]
    _, node = _pick(nodes, rng)
    _, attr = _pick(node.attribute, rng)
    how = rng.choice(("value", "value", "value", "remove", "type"))
    if how == "remove":
        node.attribute.remove(attr)
        return f"node {node.name!r} attribute {attr.name} removed"
    if how == "type":
        attr.type = rng.choice((AttributeProto.STRING, AttributeProto.FLOAT,
                                AttributeProto.INTS, AttributeProto.TENSOR))
        return f"node {node.name!r} attribute {attr.name} type -> {attr.type}"
    if attr.type == AttributeProto.INTS:
        ints = list(attr.ints)
        new = rng.choice(([], [0] * len(ints), [-1] * len(ints), [2**31 - 1] * len(ints),
                          ints[:-1], ints + [1], [2**62] * len(ints)))
        del attr.ints[:]
        attr.ints.extend(new)
    elif attr.type == AttributeProto.INT:
        attr.i = new = rng.choice((0, -1, -3, 2, 2**31 - 1, 2**62))
    elif attr.type == AttributeProto.FLOAT:
        attr.f = new = rng.choice((0.0, -1.0, float("nan"), float("inf")))
    else:
        attr.s = new = rng.choice((b"", b"\xff\xfe", b"SAME_UPPER", b"VALID"))
    return f"node {node.name!r} attribute {attr.name} -> {new!r:.60}"


def _node_inputs(model, rng):
    _, node = _pick(model.graph.node, rng)
    names = list(node.input)
    how = rng.choice(("missing", "empty", "remove", "add", "duplicate", "self"))
    if how == "missing" and names:
        names[rng.randrange(len(names))] = "no_such_tensor"
    elif how == "empty" and names:
        names[rng.randrange(len(names))] = ""
    elif how == "remove" and names:
        names.pop(rng.randrange(len(names)))
    elif how == "duplicate" and names:
        names.append(names[0])
    elif how == "self" and node.output:
        names[:1] = [node.output[0]]
    else:
        names.append(rng.choice([i.name for i in model.graph.initializer] or ["x"]))
    del node.input[:]
    node.input.extend(names)
    return f"node {node.name!r} inputs -> {names} ({how})"


def _op_type(model, rng):
    _, node = _pick(model.graph.node, rng)
    old, node.op_type = node.op_type, rng.choice(OP_TYPES)
    if rng.random() < 0.2:
        node.domain = rng.choice(("com.microsoft", "ai.onnx.ml", "evil"))
    return f"node {node.name!r} op {old} -> {node.op_type} (domain {node.domain!r})"


def _outputs(model, rng):
    g = model.graph
    if not g.output or not g.input:
        raise Skip
    how = rng.choice(("duplicate node output", "graph output missing", "no graph outputs",
                      "graph output is input", "two graph outputs same"))
    if how == "duplicate node output" and len(g.node) > 1:
        i, j = rng.sample(range(len(g.node)), 2)
        g.node[j].output[0] = g.node[i].output[0]
    elif how == "graph output missing":
        g.output[0].name = "no_such_tensor"
    elif how == "no graph outputs":
        del g.output[:]
    elif how == "graph output is input":
        g.output[0].name = g.input[0].name
    else:
        g.output.append(g.output[0])
    return how


def _graph_io(model, rng):
    g = model.graph
    _, value = _pick(list(g.input) + list(g.output), rng)
    tt = value.type.tensor_type
    how = rng.choice(("dim", "dim_param", "elem_type", "rank", "no type"))
    if how == "dim" and len(tt.shape.dim):
        tt.shape.dim[rng.randrange(len(tt.shape.dim))].dim_value = rng.choice(
            (0, -1, 2**31 - 1, 2**40))
    elif how == "dim_param" and len(tt.shape.dim):
        tt.shape.dim[rng.randrange(len(tt.shape.dim))].dim_param = "N"
    elif how == "elem_type":
        tt.elem_type = rng.choice((0, 2, 3, 6, 8, 10, 16, 99))
    elif how == "rank":
        tt.shape.dim.add().dim_value = 1
    else:
        value.ClearField("type")
    return f"value {value.name!r} {how}"


def _graph_structure(model, rng):
    g = model.graph
    how = rng.choice(("opset", "swap nodes", "remove node", "no nodes", "names", "no inputs"))
    if how == "opset":
        model.opset_import[0].version = rng.choice((1, 6, 99, 2**40))
    elif how == "swap nodes" and len(g.node) > 1:
        i, j = rng.sample(range(len(g.node)), 2)
        a, b = type(g.node[i])(), type(g.node[j])()
        a.CopyFrom(g.node[i]), b.CopyFrom(g.node[j])
        g.node[i].CopyFrom(b), g.node[j].CopyFrom(a)
    elif how == "remove node" and len(g.node):
        del g.node[rng.randrange(len(g.node))]
    elif how == "no nodes":
        del g.node[:]
    elif how == "no inputs":
        del g.input[:]
    else:
        _, node = _pick(g.node, rng)
        old, name = node.output[0], rng.choice(HOSTILE_NAMES)
        node.output[0] = name
        for other in g.node:
            for k, inp in enumerate(other.input):
                if inp == old:
                    other.input[k] = name
        for out in g.output:
            if out.name == old:
                out.name = name
    return how


EDITS = (_initializer_dims, _initializer_dims, _initializer_data, _initializer_data,
         _attribute, _attribute, _attribute, _node_inputs, _node_inputs, _op_type, _outputs,
         _graph_io, _graph_io, _graph_structure, _graph_structure)


def _make(edit):
    def mutator(data: bytes, rng: random.Random):
        model = _load(data)
        what = edit(model, rng)
        in_weights = edit is _initializer_data and what.endswith("values")
        return model.SerializeToString(), what, in_weights
    mutator.__name__ = edit.__name__.lstrip("_")
    mutator.__module__ = __name__
    return mutator


MUTATORS = tuple(_make(e) for e in EDITS)


def weight_ranges(data: bytes) -> list[tuple[int, int]]:
    """Byte ranges of the initializers' raw_data inside the serialized model."""
    ranges = []
    for init in _load(data).graph.initializer:
        raw = init.raw_data
        if len(raw) >= 8 and data.count(raw) == 1:
            start = data.find(raw)
            ranges.append((start, start + len(raw)))
    return ranges
