"""C text of a PATCHED_STAGE (templates/patched_stage.c.j2): per op, its distinct per-patch
parameter structs; per patch, a row of int32 slots (struct index, buffer offsets, copy extents);
and a function that runs the ops of one patch after another for every patch.

Per patch only the geometry changes: conv/pool `geom` (view extent, padding, output box) and
element-wise `bc` (strided views of the input boxes).
"""
from __future__ import annotations

import numpy as np

from ..lowering.ccall import C_TYPES, MAX_DIMS, CCall, Scratch, TensorRef
from . import patch_geometry as pg
from .patch_plan import StagePlan


def patch_params(call: CCall, step: pg.Step, tensors, sub) -> dict:
    """The op's full-size parameters with this patch's geometry."""
    params = dict(call.params)
    out_t = tensors[sub.outputs[0]]
    if "geom" in params:
        r = step.reads[0]
        c_in = tensors[r.tensor].shape[3]
        g = dict(params["geom"])
        g.update(input=dict(n=1, h=r.view[0], w=r.view[1], c=c_in),
                 output=dict(n=1, h=step.out.h, w=step.out.w, c=out_t.shape[3]),
                 pad_h=r.pad[0], pad_w=r.pad[1])
        params["geom"] = g
    else:
        c = out_t.shape[3]
        zeros = [0] * (MAX_DIMS - 3)
        strides = [[r.source.w * c, c, 1] + zeros for r in step.reads]
        params["bc"] = dict(rank=3, dims=[step.out.h, step.out.w, c] + zeros,
                            strides1=strides[0], strides2=strides[-1])
    return params


class Emitter:
    """Builds the per-patch slot table and the straight-line body of one patch."""

    def __init__(self, sp: StagePlan, low, index: int):
        self.sp, self.low, self.ctypes = sp, low, C_TYPES
        self.name = f"{low.prefix}_s{index}"
        plan = low.plan
        self.scratch = (low.base(plan.scratch_banks.get(index, 0)),
                        plan.scratch.get(index, (0, 0))[0])
        self.rows: list[list[int]] = [[] for _ in sp.steps]
        self.body: list[str] = []
        self.classes: list[list[str]] = [[] for _ in sp.ops]

    def base(self, name: str) -> tuple[str, int]:
        """(C base array, byte offset) of a whole stage input/output tensor in the arena."""
        plan = self.low.plan
        if name in plan.external:               # a caller-owned model input, read in place
            return self.low.input_base(name), 0
        return self.low.base(plan.bank_of(name)), plan.offsets[name]

    def slot(self, values: list[int]) -> str:
        for row, v in zip(self.rows, values):
            row.append(int(v))
        return f"o[{len(self.rows[0]) - 1}]"

    def buffer(self, key) -> int:
        return self.scratch[1] + self.sp.offsets[key]

    def source(self, read: pg.Read) -> tuple[str, int]:
        """(base, offset) of the first byte of the memory a read's `source` box is held in."""
        if read.tensor in self.sp.node.op.inputs:
            return self.base(read.tensor)
        return self.scratch[0], self.buffer(("t", read.tensor))

    def copy(self, dst_base, src_base, vals):
        d, dp, s, sp_, rows, rb = (self.slot([v[i] for v in vals]) for i in range(6))
        self.body.append(f"fitml_patch_copy({dst_base} + {d}, {dp}, {src_base} + {s}, {sp_}, "
                         f"{rows}, {rb});")

    def op(self, k: int) -> None:
        sp, sub, call = self.sp, self.sp.ops[k], self.sp.calls[k]
        steps = [s[k] for s in sp.steps]
        tensors = sp.tensors
        texts = [self.low.value(patch_params(call, st, tensors, sub)) for st in steps]
        classes = list(dict.fromkeys(texts))
        self.classes[k] = classes
        pslot = self.slot([classes.index(t) for t in texts])
        ptrs: dict[str, str] = {}
        for r, first in enumerate(steps[0].reads):
            t = tensors[first.tensor]
            px = t.shape[3] * np.dtype(t.dtype).itemsize
            base, off = self.source(first)
            at = [off + st.reads[r].offset * px for st in steps]
            ptrs[first.tensor] = f"({self.ctypes[t.dtype]} *)({base} + {self.slot(at)})"
        out_t = tensors[sub.outputs[0]]
        px = out_t.shape[3] * np.dtype(out_t.dtype).itemsize
        last = k == len(sp.ops) - 1
        if last:
            ybase, yoff = self.base(out_t.name)
            area = self.buffer(("out",)) if sp.slots else 0
            base = ybase
            at = [area + sp.slots[p] if p in sp.slots else
                  yoff + (st.out.y0 * out_t.shape[2] + st.out.x0) * px
                  for p, st in enumerate(steps)]
            if sp.slots and ybase != self.scratch[0]:     # output and slots in two RAM banks
                flag = self.slot([int(p in sp.slots) for p in range(len(steps))])
                base = f"({flag} ? {self.scratch[0]} : {ybase})"
        else:
            base, at = self.scratch[0], [self.buffer(("t", out_t.name))] * len(steps)
        ptrs[out_t.name] = f"({self.ctypes[out_t.dtype]} *)({base} + {self.slot(at)})"
        args = []
        for a in call.args:
            if isinstance(a, TensorRef) and a.name in ptrs:
                args.append(ptrs[a.name])
            elif isinstance(a, Scratch):
                off = self.sp.offsets.get(("scratch", k))
                args.append("NULL" if off is None else
                            f"(void *)({self.scratch[0]} + {self.scratch[1] + off})")
            elif isinstance(a, TensorRef) and not tensors[a.name].is_const:
                raise NotImplementedError(f"PATCHED_STAGE: {sub.kind} argument {a.name!r}")
            else:
                args.append(self.low.arg(a, -1))
        self.body.append(f"status = {call.kernel}(&{self.name}_k{k}[{pslot}], "
                         f"{', '.join(args)});")
        self.body.append("if (status != 0) {\n            return status;\n        }")
        if last and sp.slots:
            width = max(len(f) for f in sp.flush)
            boxes = [s[k].out for s in sp.steps]
            for j in range(width):             # copy finished slots into the output
                vals = []
                for p, f in enumerate(sp.flush):
                    if j < len(f):
                        b = boxes[f[j]]
                        vals.append((yoff + (b.y0 * out_t.shape[2] + b.x0) * px,
                                     out_t.shape[2] * px, area + sp.slots[f[j]], b.w * px,
                                     b.h, b.w * px))
                    else:
                        vals.append((yoff, 0, area, 0, 0, 0))
                self.copy(ybase, self.scratch[0], vals)


def emit_stage(sp: StagePlan, low, index: int) -> dict:
    em = Emitter(sp, low, index)
    for k in range(len(sp.ops)):
        em.op(k)
    op = sp.node.op
    ops = [{"index": k, "params_type": c.params_type, "classes": em.classes[k],
            "kind": sub.kind} for k, (sub, c) in enumerate(zip(sp.ops, sp.calls))]
    defs = low.render("patched_stage.c.j2", name=em.name, index=index, ops=ops, rows=em.rows,
                      body=em.body, grid=tuple(op.attr("grid")), scratch=sp.size,
                      caller_inputs=low.caller_inputs)
    args = "arena, inputs" if low.caller_inputs else "arena"
    return {"defs": defs.rstrip("\n"), "call": f"{em.name}({args})"}
