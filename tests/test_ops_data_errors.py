"""Data-movement ops (CONCATENATION, TRANSPOSE, STRIDED_SLICE, SQUEEZE, RESHAPE, PAD, PADV2):
GraphError, naming the problem, for what TFLite Micro rejects or the runtimes would disagree
on."""
from __future__ import annotations

import numpy as np
import pytest

from oplab import act, const
from toolchain.ir import Graph, GraphError, Op
from data_op_cases import i32


def op_graph(kind, ins, attrs, out):
    """A one-op graph built without the registry's inference (for invalid cases)."""
    op = Op(kind, [t.name for t in ins], [out.name], attrs)
    return Graph.build([*ins, out], [op], [t.name for t in ins if not t.is_const], [out.name])


def raises(kind, ins, attrs, out, match):
    with pytest.raises(GraphError, match=match):
        op_graph(kind, ins, attrs, out).validate()


def test_concatenation_errors():
    a, b = act("a", (2, 3), "int8", 0.1, 3), act("b", (2, 3), "int8", 0.1, 3)
    out = act("o", (4, 3), "int8", 0.1, 3)
    raises("CONCATENATION", [a, b], dict(axis=2), out, "axis 2 out of range")
    raises("CONCATENATION", [a, b], dict(axis=-3), out, "axis -3 out of range")
    raises("CONCATENATION", [a, act("b", (2, 3), "int8", 0.2, 3)], {}, out, "requires them")
    raises("CONCATENATION", [a, b], {}, act("o", (4, 3), "int8", 0.1, 4), "requires them")
    raises("CONCATENATION", [a, b], dict(activation="RELU"), out, "activation RELU")
    raises("CONCATENATION", [a, act("b", (2, 4), "int8", 0.1, 3)], {}, out, "does not match")
    raises("CONCATENATION", [a, act("b", (2, 3), "int16", 0.1, 0)], {}, out, "int16")
    op_graph("CONCATENATION", [a, b], dict(axis=-2), out).validate()


def test_transpose_errors():
    x, out = act("x", (2, 3, 4)), act("o", (4, 3, 2))
    raises("TRANSPOSE", [x, i32("p", [2, 1, 1])], {}, out, "not a permutation")
    raises("TRANSPOSE", [x, i32("p", [2, 1, -3])], {}, out, "not a permutation")
    raises("TRANSPOSE", [x, i32("p", [1, 0])], {}, out, "length 3")
    raises("TRANSPOSE", [x, act("p", (3,), "int32")], {}, out, "must be a constant")


def test_strided_slice_errors():
    x, out = act("x", (4, 5)), act("o", (2, 5))
    ops = [x, i32("b", [0, 0]), i32("e", [2, 5]), i32("s", [1, 1])]
    op_graph("STRIDED_SLICE", ops, {}, out).validate()
    raises("STRIDED_SLICE", ops, dict(ellipsis_mask=1), out, "ellipsis_mask=1 is not supp")
    raises("STRIDED_SLICE", ops, dict(new_axis_mask=2), out, "new_axis_mask=2 is not supp")
    raises("STRIDED_SLICE", [*ops[:3], i32("s", [0, 1])], {}, out, "stride of axis 0 is 0")
    raises("STRIDED_SLICE", [x, i32("b", [4, 0]), *ops[2:]], dict(shrink_axis_mask=1),
           act("o", (5,)), "shrink axis 0")
    raises("STRIDED_SLICE", [*ops[:3], i32("s", [-1, 1])], dict(shrink_axis_mask=1),
           act("o", (5,)), "positive stride")
    raises("STRIDED_SLICE", [x, i32("b", [0]), *ops[2:]], {}, out, "begin has shape")


def test_shape_errors():
    x = act("x", (2, 1, 3))
    raises("SQUEEZE", [x], dict(squeeze_dims=(0,)), act("o", (1, 3)), "is not 1")
    raises("SQUEEZE", [x], dict(squeeze_dims=(3,)), act("o", (2, 3)), "out of range")
    raises("RESHAPE", [x], dict(new_shape=(4, 2)), act("o", (4, 2)), "holds 8 elements")
    raises("RESHAPE", [x], dict(new_shape=(-1, -1)), act("o", (2, 3)), "more than one -1")
    raises("RESHAPE", [x], dict(new_shape=(-1, 4)), act("o", (2, 3)), "cannot infer")
    raises("RESHAPE", [x], {}, act("o", (6,)), "no new_shape")
    raises("RESHAPE", [x, i32("s", [3, 2])], dict(new_shape=(2, 3)), act("o", (2, 3)),
           "runtimes would disagree")
    raises("PAD", [x, i32("p", [[0, 1], [1, 0]])], {}, act("o", (3, 2, 3)), "paddings shape")
    raises("PAD", [x, i32("p", [[0, 1], [0, 0], [-1, 0]])], {}, act("o", (3, 1, 2)),
           "negative paddings")
    raises("PAD", [x, act("p", (3, 2), "int32")], {}, act("o", (2, 1, 3)), "must be a const")
    p = i32("p", [[0, 1], [0, 0], [0, 0]])
    bad = const("v", np.array([0], np.int8), scale=[0.05], zp=[1])
    raises("PADV2", [x, p, bad], {}, act("o", (3, 1, 3)), "output's scale and zero point")
    two = const("v", np.array([0, 0], np.int8), scale=[0.05], zp=[0])
    raises("PADV2", [x, p, two], {}, act("o", (3, 1, 3)), "must be a scalar")
