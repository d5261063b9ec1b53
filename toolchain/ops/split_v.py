"""SPLIT_V: cut the input along a constant axis into parts of the constant `size_splits`.

Input order is TFLite's: (input, size_splits, axis). One size may be -1: it takes what the
others leave. Raw element copies like SPLIT (split.py), float32, int8, int16 and int32.
"""
from __future__ import annotations

from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from . import common
from .registry import Node, OpDef, register
from .split import check_dtype, const_axis, split_call, split_outputs, split_reference


def part_sizes(ins) -> tuple[object, int, list[int]]:
    """(input, axis, sizes) with a -1 size resolved."""
    x = common.need(ins[0], "input", "SPLIT_V")
    axis = const_axis(ins[2] if len(ins) > 2 else None, len(x.shape), "SPLIT_V")
    sizes = [int(n) for n in common.const_ints(ins[1] if len(ins) > 1 else None,
                                               "size_splits", "SPLIT_V").reshape(-1)]
    total = x.shape[axis]
    if sizes.count(-1) > 1 or any(n < -1 for n in sizes) or not sizes:
        raise GraphError(f"SPLIT_V: size_splits {sizes} must be sizes >= 0 with at most one -1")
    if -1 in sizes:
        rest = total - sum(n for n in sizes if n != -1)
        if rest < 0:
            raise GraphError(f"SPLIT_V: size_splits {sizes} exceed axis {axis} of size {total}")
        sizes[sizes.index(-1)] = rest
    if 0 in sizes:
        raise GraphError(f"SPLIT_V: size_splits {sizes} make an empty part (TFLite Micro "
                         "refuses empty outputs as dynamic tensors)")
    if sum(sizes) != total:
        raise GraphError(f"SPLIT_V: size_splits {sizes} do not add up to axis {axis} of size "
                         f"{total}")
    return x, axis, sizes


@register
class SplitV(OpDef):
    kind = "SPLIT_V"
    tflite_options = "SplitVOptions"

    @staticmethod
    def infer(op, ins):
        x, axis, sizes = part_sizes(ins)
        check_dtype(x, "SPLIT_V")
        return split_outputs(x, axis, sizes)

    @staticmethod
    def check(op, ins, outs):
        count = op.attr("num_splits")
        if count is not None and int(count) != len(outs):
            raise GraphError(f"SPLIT_V: num_splits {count} but {len(outs)} outputs")

    @staticmethod
    def reference(node: Node, args):
        _, axis, sizes = part_sizes(node.ins)
        return split_reference(args[0], axis, sizes)

    @staticmethod
    def attrs_from_tflite(o):
        return dict(num_splits=int(common.options_get(o, "numSplits", 0)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.SplitVOptionsT()
        o.numSplits = int(attrs.get("num_splits", 0))
        return o

    @staticmethod
    def lower_c(node: Node):
        x, axis, sizes = part_sizes(node.ins)
        return split_call(node, x, axis, sizes)
