"""A graph lowered to kernel calls with its memory plan (`Lowered`, what every C template
renders), how its values, pointers and arguments read as C, and the template environment."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import jinja2
import numpy as np

from ..ir import Graph
from ..lowering.ccall import C_TYPES, CArray, CCall, OutRefs, Scratch, StateRef, TensorRef
from ..plan.memory import MemoryPlan
from ..plan.regions import Layout
from ..util.templating import template_environment
from . import cgen_util as cu


@dataclass
class Lowered:
    """A graph lowered to kernel calls, with its plan: the input of every C template."""

    graph: Graph
    calls: list[CCall]
    plan: MemoryPlan
    prefix: str
    arrays: dict[tuple, tuple[str, CArray]] = field(default_factory=dict)  # CArray.key -> name
    weights: dict[str, str] = field(default_factory=dict)                # const tensor -> name
    layout: Layout | None = None
    weight_regions: dict[str, str] = field(default_factory=dict)  # weight symbol -> flash region
    plain_layouts: tuple[str, ...] = ()   # layers that gave up their DSP layout to fit flash
    layout_choices: tuple = ()            # clayouts.LayoutChoice per layer that could carry one
    states: dict[str, str] = field(default_factory=dict)   # variable tensor -> static array

    def render(self, template: str, **params) -> str:
        """A C template (templates/) rendered with the backend's filters: what composite ops'
        `CCall.emit` writes its own C with (ops/patch_emit.py)."""
        return template_env().get_template(template).render(**params)

    def array_name(self, arr: CArray) -> str:
        """The symbol of a constant array: byte-identical arrays of one C type and role (an
        FC's reordered filter or requantization arrays when several ops share a weight, as an
        unrolled RNN's steps do) get one symbol, emitted once."""
        if arr.key not in self.arrays:
            self.arrays[arr.key] = (f"{self.prefix}_c{len(self.arrays)}", arr)
        return self.arrays[arr.key][0]

    def weight_name(self, tensor: str) -> str:
        if tensor not in self.weights:
            self.weights[tensor] = f"{self.prefix}_w{len(self.weights)}"
        return self.weights[tensor]

    def state_name(self, tensor: str) -> str:
        """The static array of model.c holding a stateful op's variable tensor."""
        if tensor not in self.states:
            self.states[tensor] = f"{self.prefix}_s{len(self.states)}"
        return self.states[tensor]

    def value(self, v: Any) -> str:
        """A parameter-struct field value as C text."""
        if isinstance(v, StateRef):
            return self.state_name(v.name)
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
        if ref.name in self.plan.external:
            return f"({ctype} *){self.input_base(ref.name)}"
        return f"({ctype} *)({self.base(self.plan.bank_of(ref.name))} + " \
               f"{self.plan.offsets[ref.name]})"

    @property
    def caller_inputs(self) -> bool:
        """The inputs live in caller-owned buffers: invoke() takes their pointers."""
        return any(n in self.plan.external for n in self.graph.inputs)

    def input_base(self, name: str) -> str:
        """The caller-owned buffer holding `name` (invoke()'s `inputs[k]`) as a byte pointer."""
        return f"((uint8_t *)inputs[{self.graph.inputs.index(self.plan.external[name])}])"

    def base(self, bank: int) -> str:
        """The C array of RAM bank `bank`: the caller's arena, or a static array of model.c."""
        return "arena" if bank == 0 else bank_symbol(self.prefix, self.plan.banks[bank].name)

    def arg(self, a, index: int) -> str:
        if isinstance(a, OutRefs):      # several outputs (SPLIT): a compound literal
            items = ", ".join(f"(void *){self.arg(x, index)}" for x in a)
            return f"(void *const[]){{{items}}}"
        if isinstance(a, tuple):        # several tensors (CONCATENATION): a compound literal
            items = ", ".join(f"(const void *){self.arg(x, index)}" for x in a)
            return f"(const void *const[]){{{items}}}"
        if isinstance(a, Scratch):
            offset = self.plan.scratch.get(index, (0, 0))[0]
            return f"(void *)({self.base(self.plan.scratch_banks.get(index, 0))} + {offset})"
        if isinstance(a, CArray):
            return self.array_name(a)
        if isinstance(a, StateRef):
            return self.state_name(a.name)
        if isinstance(a, TensorRef):
            return self.pointer(a)
        return str(a)


def bank_symbol(prefix: str, region: str) -> str:
    return f"{prefix}_arena_{region}"


@functools.cache
def template_env(prebuilt: bool = False) -> jinja2.Environment:
    """The Jinja environment of templates/ with the C rendering filters (cgen_util); one per
    process, its compiled templates cached on disk (`prebuilt`: setup's copy)."""
    env = template_environment("templates", prebuilt, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(comment=cu.c_comment, cint=cu.c_int, cfloat=cu.c_float,
                       body=cu.c_array_body)
    return env
