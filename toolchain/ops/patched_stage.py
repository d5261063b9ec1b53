"""PATCHED_STAGE: a run of spatial ops executed patch by patch (MCUNetV2-style partitioning).

attrs: `ops` (the stage's ops, in order, naming stage tensors), `tensors` (every tensor the ops
produce, the stage output included, as frozen Tensors), `grid` (rows, cols of the stage
output). Inputs: the stage's one activation input, then the constants its ops read. Only one
patch's intermediates are alive at a time, so the big intermediate feature maps never exist.

The reference runs each patch the way the C does (patch_reference.py); the C is written by
patch_lowering.py.
"""
from __future__ import annotations

from ..ir import GraphError, Op
from . import patch_boxes as pb
from . import registry
from .patch_lowering import lower_stage
from .patch_plan import patches, stage_tensors, sub_node
from .patch_reference import run_patches
from .opdef import OpDef
from .registry import Node, register

KIND = "PATCHED_STAGE"
DTYPES = ("int8", "int16", "float32")
# 16x8 sub-ops (int16 activations): zero points 0, so padded conv taps add nothing; their C
# kernels take the same geometry structs, on 2-byte elements (patch_emit uses itemsize)
INT16_SUBS = ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "ADD", "SUB")


def _check_stage(op: Op, ins) -> None:
    subs, tensors = op.attr("ops", ()), stage_tensors(op, ins)
    if not subs or len(op.outputs) != 1 or not ins or ins[0] is None or ins[0].is_const:
        raise GraphError(f"{KIND}: needs ops, one activation input first and one output")
    if any(t is not None and not t.is_const for t in ins[1:]):
        raise GraphError(f"{KIND}: only the first input may be an activation")
    defined, used = {op.inputs[0]}, set()
    for sub in subs:
        if sub.kind not in pb.SUPPORTED:
            raise GraphError(f"{KIND}: {sub.kind} cannot run in patches")
        for n in pb.activation_inputs(sub, tensors):
            if n not in defined:
                raise GraphError(f"{KIND}: {sub.kind} reads {n!r} before it is computed")
            used.add(n)
        node = sub_node(sub, tensors)
        x = node.ins[0]
        if len(x.shape) != 4 or x.shape[0] != 1 or x.dtype not in DTYPES:
            raise GraphError(f"{KIND}: {sub.kind} input must be int8, int16 or float32 NHWC, "
                             "batch 1")
        if x.dtype == "int16" and sub.kind not in INT16_SUBS:
            raise GraphError(f"{KIND}: {sub.kind} has no int16 patch kernel")
        if sub.kind in pb.WINDOWED and len(node.ins) > 1 and node.ins[1] is not None and \
                x.dtype == "float32" and node.ins[1].dtype != "float32":
            raise GraphError(f"{KIND}: hybrid {sub.kind} quantizes whole inputs, not patches")
        if sub.kind in pb.ELEMENTWISE and any(t is None or t.is_const or t.shape !=
                                              node.outs[0].shape for t in node.ins[:2]):
            raise GraphError(f"{KIND}: {sub.kind} inside a stage takes two activations of "
                             "its output's shape")
        want = registry.get(sub.kind).infer(sub, node.ins)
        if [(tuple(s), d) for s, d in want] != [(t.shape, t.dtype) for t in node.outs]:
            raise GraphError(f"{KIND}: {sub.kind} output does not match its inferred shape")
        registry.get(sub.kind).check(sub, node.ins, node.outs)
        defined.update(sub.outputs)
    if subs[-1].outputs != op.outputs or op.outputs[0] in used:
        raise GraphError(f"{KIND}: the last op must write the stage output, read by no op")
    if set(tensors) - set(op.inputs) - used - set(op.outputs):
        raise GraphError(f"{KIND}: a stage tensor is computed but never read")
    check_grid(op, tensors)


def check_grid(op: Op, tensors) -> None:
    """The one check that depends on the grid: it fits the stage output. (The partition search
    checks a run of ops once, then only this for each grid.)"""
    rows, cols = op.attr("grid", (0, 0))
    out = tensors[op.outputs[0]]
    if not (1 <= rows <= out.shape[1] and 1 <= cols <= out.shape[2]):
        raise GraphError(f"{KIND}: grid {rows}x{cols} does not fit the {out.shape[1]}x"
                         f"{out.shape[2]} output")


@register
class PatchedStage(OpDef):
    kind = KIND

    @staticmethod
    def infer(op, ins):
        out = stage_tensors(op, ins).get(op.outputs[0]) if op.outputs else None
        if out is None:
            raise GraphError(f"{KIND}: the stage output is not among its tensors")
        return [(out.shape, out.dtype)]

    @staticmethod
    def check(op, ins, outs):
        _check_stage(op, ins)

    @staticmethod
    def reference(node: Node, args):
        return run_patches(node, args)

    @staticmethod
    def macs(node: Node) -> int:
        """MACs actually executed: every op over its patch boxes (halos included)."""
        op, tensors = node.op, stage_tensors(node.op, node.ins)
        per_pixel = []
        for sub in op.attr("ops"):
            n = sub_node(sub, tensors)
            oh, ow = n.outs[0].shape[1:3]
            per_pixel.append(registry.get(sub.kind).macs(n) // max(oh * ow, 1))
        return sum(per_pixel[s.op] * s.out.h * s.out.w
                   for steps in patches(op, tensors) for s in steps)

    @staticmethod
    def lower_c(node: Node):
        return lower_stage(node)
