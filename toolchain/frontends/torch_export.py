"""PyTorch frontend: nn.Module (or a `.pt2` from torch.export.save) -> float32 fitml Graph.

Path: `torch.export.export(module.eval(), example_inputs)`, then `run_decompositions` to core
ATen except for a few ops kept whole (linear, hardswish, hardsigmoid, matmul), then one converter
per ATen op (torch_ops.py) emits NHWC ops with TFLite semantics, then the CLEANUP passes fold
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
import warnings
from pathlib import Path

from ..errors import ModelError
from ..ir import Graph, GraphError
from ..passes.pipeline import CLEANUP, run_pipeline
from . import (torch_activation_ops, torch_conv_ops, torch_logic_ops, torch_ops,  # noqa: F401
               torch_pool_ops, torch_shape_ops)
from .onnx import load_onnx
from .pt2_archive import check_pt2, quiet_load
from .torch_builder import Builder
from .torch_common import CONVERTERS, KEEP_WHOLE, NHWC, Value, first_line


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
                             f"({first_line(exc)})") from None
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

    reason = first_line(cause)
    buf = io.BytesIO()
    try:
        with torch.no_grad():
            torch.onnx.export(module, inputs, buf, dynamo=False, external_data=False)
    except Exception as exc:
        raise ModelError(f"{where}: torch.export failed ({reason}); ONNX export failed too "
                         f"({first_line(exc)})") from None
    try:
        graph = load_onnx(buf.getvalue())
    except ImportError as exc:
        raise ModelError(f"{where}: torch.export failed ({reason}) and the ONNX fallback is "
                         f"unavailable ({exc})") from None
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
    try:
        ep = decompose(ep)
    except Exception as exc:
        raise ModelError(f"{where}: run_decompositions failed ({first_line(exc)})") from None
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


def supported() -> list[str]:
    return sorted(CONVERTERS)


__all__ = ["load_torch", "convert_program", "supported", "Value", "NHWC"]
