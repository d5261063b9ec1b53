"""ONNX model -> fitml Graph (float32, or int8 for QDQ models), NHWC, TFLite op semantics.

Layout: ONNX is NCHW; fitml is NHWC. NCHW becomes NHWC once, at import: rank-4 activations
are stored NHWC and every layout-sensitive op (Conv, pools, Concat/Softmax/Reduce axes,
Flatten/Reshape, Transpose perms, Pad) is converted accordingly (see onnx_build.py).
Rank-4 graph inputs and outputs are NHWC, so users feed NHWC arrays and `input_shapes` are
given in that layout; `keep_nchw_io=True` keeps them NCHW (TRANSPOSE ops are added inside).
Dynamic dims need `input_shapes={name: shape}`; only a leading dim named like a batch
("N", "batch_size", "unk__12", ...) defaults to 1.

Constant subgraphs (Shape, Gather, Concat, Unsqueeze, ... on constants) are evaluated with
onnx's reference evaluator at import, so they never reach the graph; their sizes are bounded
from shapes before they run (onnx_fold.py). The file is untrusted: onnx_checks.py refuses
broken structure and tensor sizes before anything is allocated.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..errors import ModelError
from ..ir import Graph, GraphError, Tensor
from ..passes.pipeline import CLEANUP, run_pipeline
from . import (  # noqa: F401  (the converter modules register on import)
    onnx_conv_ops, onnx_elementwise_ops, onnx_fold, onnx_logic_ops, onnx_math_ops, onnx_qdq,
    onnx_resize_ops, onnx_shape_ops, onnx_slice_ops, onnx_tconv_ops)
from .onnx_build import Builder
from .onnx_checks import check_elements, check_structure, node_problem
from .onnx_node import CONVERTERS, NCHW, NHWC, OnnxNode, identity, natural

MIN_OPSET, MAX_OPSET = 6, 21
DEFAULT_DOMAINS = ("", "ai.onnx")
BATCH_NAME = re.compile(r"^(n|b|bs|none|\?|unk__\d+|.*batch.*)$", re.IGNORECASE)
NO_FOLD = ("RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
           "Multinomial", "Bernoulli", "If", "Loop", "Scan")


def load_onnx(source, input_shapes: Mapping[str, Sequence[int]] | None = None,
              keep_nchw_io: bool = False, cleanup: bool = True) -> Graph:
    """Read an .onnx model (path or bytes) into a validated Graph.

    cleanup: run the CLEANUP pass pipeline (fold BatchNorm and biases, fuse activations,
    drop redundant transposes/reshapes); False returns the literal translation.
    """
    model, where = _read(source)
    opset = _opset(model, where)
    graph = model.graph
    check_structure(graph, where)
    inits = {t.name: _array(t, where) for t in graph.initializer}
    activations = {n for node in graph.node for n in node.output if n}
    b = Builder(opset, activations | {i.name for i in graph.input if i.name not in inits})
    b.consts.update(inits)
    onnx_qdq.prescan(b, graph, inits)
    inputs, shapes = [], dict(input_shapes or {})
    for vi in graph.input:
        if vi.name in inits:
            continue  # IR < 4 lists initializers as inputs too
        inputs.append(_add_input(b, vi, shapes, keep_nchw_io, where))
    if shapes:
        raise ModelError(f"{where}: input_shapes names no model input: "
                         f"{', '.join(map(repr, shapes))} (inputs: {', '.join(inputs)})")
    for proto in graph.node:
        _convert(b, _node(proto), proto, where)
    b.node = None
    outputs: list[str] = []
    for o in graph.output:
        outputs.append(_output(b, o.name, keep_nchw_io, inputs + outputs, where))
    result = Graph.build(b.tensors.values(), b.ops, inputs, outputs,
                         {"source": Path(where).name, "path": where, "format": "onnx"})
    try:
        result = result.validate()
        if cleanup:
            result = run_pipeline(result, CLEANUP)
    except GraphError as exc:
        raise ModelError(f"{where}: {exc}") from None
    return result


def _read(source):
    import onnx  # lazy: onnx is optional (fitml[onnx])

    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            return onnx.load_model_from_string(bytes(source)), "<bytes>"
        return onnx.load(str(source)), str(source)
    except FileNotFoundError:
        raise ModelError(f"{source}: no such file") from None
    except Exception as exc:  # protobuf DecodeError, external data errors, ...
        where = "<bytes>" if isinstance(source, (bytes, bytearray, memoryview)) else source
        raise ModelError(f"{where}: not a readable ONNX model ({type(exc).__name__}: "
                         f"{exc})") from None


def _opset(model, where: str) -> int:
    versions = {o.domain: o.version for o in model.opset_import}
    opset = next((versions[d] for d in DEFAULT_DOMAINS if d in versions), None)
    if opset is None:
        raise ModelError(f"{where}: model imports no default-domain ONNX opset")
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ModelError(f"{where}: ONNX opset {opset} is not supported (supported: "
                         f"{MIN_OPSET} to {MAX_OPSET}); convert it with "
                         "onnx.version_converter first")
    return opset


def _array(t, where: str) -> np.ndarray:
    from onnx import numpy_helper  # lazy: onnx is optional (fitml[onnx])

    if any(d < 0 for d in t.dims):
        raise ModelError(f"{where}: initializer {t.name!r} has a negative dimension in "
                         f"{list(t.dims)}")
    try:
        return numpy_helper.to_array(t)
    except Exception as exc:
        raise ModelError(f"{where}: initializer {t.name!r} unreadable: {exc}") from None


def _node(proto) -> OnnxNode:
    from onnx import helper  # lazy: onnx is optional (fitml[onnx])

    attrs = {}
    for a in proto.attribute:
        value = helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list):
            value = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v
                     for v in value]
        attrs[a.name] = value
    first = proto.output[0] if proto.output else "?"
    return OnnxNode(proto.op_type, proto.name or f"{proto.op_type}({first})",
                    tuple(proto.input), tuple(proto.output), attrs)


def _add_input(b: Builder, vi, input_shapes: dict, keep_nchw: bool, where: str) -> str:
    import onnx  # lazy: onnx is optional (fitml[onnx])

    tt = vi.type.tensor_type
    try:
        elem = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type) if tt.elem_type else None
    except KeyError:                     # not an ONNX TensorProto.DataType
        elem = None
    if elem is None or elem.name not in ("float32", "float16", "float64"):
        raise ModelError(f"{where}: input {vi.name!r} has element type "
                         f"{elem.name if elem is not None else 'unknown'}; only float inputs "
                         "are supported")
    if not tt.HasField("shape"):
        raise ModelError(f"{where}: input {vi.name!r} has no shape; pass input_shapes")
    dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in tt.shape.dim]
    perm = NHWC if len(dims) == 4 and not keep_nchw else identity(len(dims))
    shown = [dims[i] for i in perm]   # the graph's (user-facing) layout
    given = input_shapes.pop(vi.name, None) if input_shapes else None
    if given is not None:
        given = tuple(int(d) for d in given)
        fixed = [g for g, d in zip(given, shown) if isinstance(d, str) or g == d]
        if len(given) != len(dims) or len(fixed) != len(dims) or min(given, default=1) < 1:
            raise ModelError(f"{where}: input_shapes[{vi.name!r}] = {list(given)} does not "
                             f"fit the model's input shape {shown} (layout "
                             f"{'NHWC' if perm == NHWC else 'as in the model'})")
        onnx_shape = tuple(given[i] for i in np.argsort(perm))
    else:
        onnx_shape = []
        for i, d in enumerate(dims):
            if isinstance(d, str) and not (i == 0 and BATCH_NAME.match(d)):
                hint = ",".join(str(1 if isinstance(s, str) else s) for s in shown)
                raise ModelError(
                    f"{where}: input {vi.name!r} has dynamic shape "
                    f"[{', '.join(map(str, shown))}]; pass --input-shape {vi.name}={hint} "
                    f"(API: input_shapes={{{vi.name!r}: (...)}}), with the real sizes")
            onnx_shape.append(1 if isinstance(d, str) else d)
    check_elements(onnx_shape, f"{where}: input {vi.name!r}")
    stored = tuple(onnx_shape[i] for i in perm)
    b.tensors[vi.name] = Tensor(vi.name, stored, "float32")
    b.define(vi.name, vi.name, perm)
    return vi.name


def _convert(b: Builder, node: OnnxNode, proto, where: str) -> None:
    b.node = node
    present = [i for i in node.inputs if i]
    domain = proto.domain if proto.domain not in DEFAULT_DOMAINS else ""
    fold = not domain and node.op_type not in NO_FOLD and all(b.is_const(i) for i in present)
    fold = fold and bool(present or node.op_type in ("Constant", "ConstantOfShape", "Range"))
    fn = CONVERTERS.get(node.op_type)
    if not fold and (fn is None or domain):
        op = f"{domain}::{node.op_type}" if domain else node.op_type
        raise ModelError(f"{where}: ONNX op {op} (node {node.name!r}, opset {b.opset}) is "
                         f"not supported; supported ONNX ops: {', '.join(sorted(CONVERTERS))}"
                         " (plus any op on constant inputs)")
    try:
        problem = None if domain else node_problem(proto, b.opset, b.consts)
        if problem:
            raise b.error(problem)
        if not fold:
            fn(b, node)
            return
        onnx_fold.fold(b, node, proto)
        if node.op_type == "DequantizeLinear":
            onnx_qdq.record_dequantized(b, node)
    except ModelError as exc:
        raise ModelError(f"{where}: {exc}") from None
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        # model files are untrusted: a malformed node is a clear error, not a traceback
        raise ModelError(f"{where}: ONNX node {node.name!r} ({node.op_type}): malformed or "
                         f"unsupported ({type(exc).__name__}: {exc})") from None


def _output(b: Builder, name: str, keep_nchw: bool, taken: list, where: str) -> str:
    """The tensor of graph output `name` in its layout, renamed to `name` when possible."""
    if b.is_const(name):
        raise ModelError(f"{where}: graph output {name!r} is a constant (does not depend on "
                         "any input); nothing to compile")
    if name not in b.values:
        raise ModelError(f"{where}: graph output {name!r} is not computed by any supported "
                         "node output")
    rank = len(b.shape(name))
    tensor = b.tensor_in(name, identity(rank) if keep_nchw else natural(rank))
    t = b.tensors[tensor]
    if t.dtype in ("int8", "uint8", "int16") and t.quant is not None:
        tensor = b.emit("DEQUANTIZE", [tensor], base=f"{name}_float")   # QDQ: ONNX's floats
    if tensor == name or tensor in taken or name in taken:
        return tensor
    if name in b.tensors:   # the value in another layout (or quantized) holds the name
        b.rename(name, b.fresh(f"{name}_inner"))
    b.rename(tensor, name)
    return name


__all__ = ["load_onnx", "NCHW", "NHWC"]
