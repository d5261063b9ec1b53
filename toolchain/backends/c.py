"""C backend: Graph + memory plan -> model.h, model.c, model_weights.c and build snippets.

The generated code is a static schedule of runtime kernel calls on one caller-owned arena.
Identical graphs give byte-identical files (no paths, no timestamps).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jinja2
import numpy as np

from .. import __version__
from ..ir import Graph
from ..ops import registry
from ..ops.registry import Node
from ..passes.schedule import schedule_for_memory
from ..plan.memory import MemoryPlan, plan_memory
from ..resources import resource_dir
from . import cgen_util as cu
from .clower import CArray, CCall, Scratch, TensorRef

C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t",
           "float32": "float", "int64": "int64_t", "bool": "uint8_t", "int4": "int8_t"}


@dataclass
class Lowered:
    """A graph lowered to kernel calls, with its plan: the input of every C template."""

    graph: Graph
    calls: list[CCall]
    plan: MemoryPlan
    prefix: str
    arrays: dict[int, tuple[str, CArray]] = field(default_factory=dict)   # id(CArray) -> name
    weights: dict[str, str] = field(default_factory=dict)                # const tensor -> name

    def array_name(self, arr: CArray) -> str:
        if id(arr) not in self.arrays:
            self.arrays[id(arr)] = (f"{self.prefix}_c{len(self.arrays)}", arr)
        return self.arrays[id(arr)][0]

    def weight_name(self, tensor: str) -> str:
        if tensor not in self.weights:
            self.weights[tensor] = f"{self.prefix}_w{len(self.weights)}"
        return self.weights[tensor]

    def value(self, v: Any) -> str:
        """A parameter-struct field value as C text."""
        if isinstance(v, CArray):
            return self.array_name(v)
        if isinstance(v, TensorRef):
            return self.pointer(v)
        if isinstance(v, dict):
            return "{" + ", ".join(f".{k} = {self.value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, (list, tuple)):
            return "{" + ", ".join(self.value(x) for x in v) + "}"
        if isinstance(v, (bool, np.bool_)):
            return "1" if v else "0"
        if isinstance(v, (int, np.integer)):
            return cu.c_int(v)
        if isinstance(v, (float, np.floating)):
            return cu.c_float(v)
        if isinstance(v, str):          # C expressions written by fitml's own lowering code
            return v
        raise TypeError(f"cannot render {type(v).__name__} as C")

    def pointer(self, ref: TensorRef) -> str:
        t = self.graph.tensors[ref.name]
        ctype = C_TYPES[t.dtype]
        if t.is_const:
            return self.weight_name(ref.name)
        return f"({ctype} *)(arena + {self.plan.offsets[ref.name]})"

    def arg(self, a, index: int) -> str:
        if isinstance(a, tuple):        # several tensors (CONCATENATION): a compound literal
            items = ", ".join(f"(const void *){self.arg(x, index)}" for x in a)
            return f"(const void *const[]){{{items}}}"
        if isinstance(a, Scratch):
            offset = self.plan.scratch.get(index, (0, 0))[0]
            return f"(void *)(arena + {offset})"
        if isinstance(a, CArray):
            return self.array_name(a)
        if isinstance(a, TensorRef):
            return self.pointer(a)
        return str(a)


def shared_storage(graph: Graph, calls: list[CCall]) -> dict[str, str]:
    """Outputs that reuse an input's bytes: aliases always, in-place ops when the input dies
    at that op and is not a graph output."""
    last_use = {n: i for i, op in enumerate(graph.ops) for n in op.inputs if n}
    shares = {}
    for i, (op, call) in enumerate(zip(graph.ops, calls)):
        out = op.outputs[0]
        if call.alias_of is not None:
            shares[out] = call.alias_of
        elif call.inplace_input is not None:
            src = op.inputs[call.inplace_input]
            t = graph.tensors[src]
            if (not t.is_const and last_use.get(src) == i and src not in graph.outputs
                    and t.nbytes >= graph.tensors[out].nbytes):
                shares[out] = src
    return shares


def lower(graph: Graph, prefix: str = "model", alignment: int = 16) -> Lowered:
    """Schedule for memory, lower every op through the registry and plan the arena
    (activations + scratch). `Lowered.graph` is the scheduled graph."""
    graph = schedule_for_memory(graph)
    calls = [registry.get(op.kind).lower_c(Node.of(graph, op)) for op in graph.ops]
    plan = plan_memory(graph, lambda i: calls[i].scratch_bytes, alignment,
                       shared_storage(graph, calls))
    return Lowered(graph, calls, plan, cu.c_identifier(prefix))


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(comment=cu.c_comment, cint=cu.c_int, cfloat=cu.c_float,
                       body=cu.c_array_body)
    return env


def _io(low: Lowered, names) -> list[dict]:
    out = []
    for i, name in enumerate(names):
        t = low.graph.tensors[name]
        q = t.quant
        out.append({"index": i, "ctype": C_TYPES[t.dtype], "dims": list(t.shape),
                    "size": t.size, "bytes": t.nbytes, "offset": low.plan.offsets[name],
                    "scale": q.s if q is not None else 0.0, "zero_point": q.zp if q else 0,
                    "dtype": t.dtype})
    return out


MODEL_TEMPLATES = {"model.h.j2": "{p}.h", "model.c.j2": "{p}.c",
                   "model_weights.c.j2": "{p}_weights.c", "model_weights.h.j2": "{p}_weights.h",
                   "fitml_model.cmake.j2": "{p}.cmake", "fitml_model.mk.j2": "{p}.mk"}


def emit_c(graph: Graph, prefix: str = "model", target: str = "",
           weights_section: str = ".rodata.fitml_weights",
           extra: dict[str, str] | None = None) -> dict[str, str]:
    """All generated files by name; `extra` maps more templates (e.g. a harness) to file names."""
    ctx = c_context(lower(graph, prefix), target, weights_section)
    env = _env()
    names = {tpl: out.format(p=ctx["prefix"]) for tpl, out in MODEL_TEMPLATES.items()}
    names.update(extra or {})
    return {out: env.get_template(tpl).render(**ctx) for tpl, out in names.items()}


def c_context(low: Lowered, target: str, weights_section: str) -> dict[str, Any]:
    """Everything the templates need, with every name and number already C-safe."""
    graph = low.graph
    steps = []
    for i, (op, call) in enumerate(zip(graph.ops, low.calls)):
        step = {"index": i, "kind": op.kind, "call": call, "params": None,
                "what": cu.c_comment(f"{op.kind} -> {list(graph.tensors[op.outputs[0]].shape)}")}
        if call.alias_of is not None:
            src, dst = graph.tensors[call.alias_of], graph.tensors[op.outputs[0]]
            same = src.is_const is False and low.plan.offsets.get(src.name) == \
                low.plan.offsets.get(dst.name)
            step["alias_copy"] = None if same else (
                low.pointer(TensorRef(dst.name)), low.pointer(TensorRef(src.name)), dst.nbytes)
        else:
            step["params"] = low.value(call.params) if call.params_type else None
            step["args"] = [low.arg(a, i) for a in call.args]
        steps.append(step)
    weights = [{"name": n, "ctype": C_TYPES[graph.tensors[t].dtype],
                "array": CArray(graph.tensors[t].data, C_TYPES[graph.tensors[t].dtype])}
               for t, n in low.weights.items()]
    arrays = [{"name": n, "ctype": a.ctype, "array": a} for n, a in low.arrays.values()]
    ctx = {"prefix": low.prefix, "PREFIX": low.prefix.upper(), "steps": steps,
           "arena_size": low.plan.arena_size, "inputs": _io(low, graph.inputs),
           "outputs": _io(low, graph.outputs), "weights": weights, "arrays": arrays,
           "section": weights_section, "plan": low.plan, "version": __version__,
           "target": cu.c_comment(target),
           "source": cu.c_comment(graph.metadata.get("source", "")),
           "kernels": sorted({c.kernel for c in low.calls if c.alias_of is None}),
           "macs": sum(registry.get(op.kind).macs(Node.of(graph, op)) for op in graph.ops)}
    return ctx
