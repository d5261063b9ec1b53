"""The ONNX frontend on hand-built graphs: each converter's layout and padding cases (Conv,
pools, layout ops on NCHW values, activations, arithmetic, Gemm and old opsets) equal
onnxruntime, in the reference and in LiteRT."""
from __future__ import annotations


import numpy as np
import pytest
from onnx import helper

from toolchain.errors import ModelError
from toolchain.frontends.onnx import load_onnx
from onnx_cases import check_model, kinds, make

def conv_model(rng, pads=None, auto_pad=None, strides=(1, 1), dilations=(1, 1), group=1,
               x=(1, 4, 9, 8), k=(3, 3), cout=6):
    w = rng.standard_normal((cout, x[1] // group, *k)).astype(np.float32)
    attrs = dict(strides=list(strides), dilations=list(dilations), group=group)
    attrs.update(dict(pads=list(pads)) if pads else {})
    attrs.update(dict(auto_pad=auto_pad) if auto_pad else {})
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], **attrs)
    b = rng.standard_normal(cout).astype(np.float32)
    return make([node], {"x": x}, ["y"], {"w": w, "b": b})


CONV_CASES = {
    "same_pads": dict(pads=(1, 1, 1, 1)),
    "asymmetric_pads": dict(pads=(0, 2, 1, 0)),          # -> PAD folded: EXPLICIT
    "same_upper_stride2": dict(auto_pad="SAME_UPPER", strides=(2, 2)),
    "same_lower_stride2": dict(auto_pad="SAME_LOWER", strides=(2, 2)),
    "valid_dilated": dict(auto_pad="VALID", dilations=(2, 1)),
    "grouped": dict(group=2, pads=(1, 1, 1, 1)),
    "depthwise_dm3": dict(group=4, cout=12, pads=(1, 1, 1, 1)),
    "stride_extra_pad": dict(pads=(1, 1, 1, 1), strides=(2, 3)),
}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv_padding_and_groups(case, rng):
    graph = check_model(conv_model(rng, **CONV_CASES[case]),
                        [rng.standard_normal((1, 4, 9, 8)).astype(np.float32)])
    if case == "asymmetric_pads":
        assert kinds(graph) == ["CONV_2D"] and graph.ops[0].attr("padding") == "EXPLICIT"
    if case in ("same_pads", "same_upper_stride2"):
        assert kinds(graph) == ["CONV_2D"] and graph.ops[0].attr("padding") == "SAME"


POOL_CASES = {
    "max_pads_not_same": ("MaxPool", dict(kernel_shape=[3, 3], pads=[1, 0, 0, 1],
                                          strides=[2, 2])),
    "max_ceil": ("MaxPool", dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)),
    "avg_exclude_same": ("AveragePool", dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])),
    "avg_include_pad": ("AveragePool", dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                            count_include_pad=1)),
    "avg_ceil_same": ("AveragePool", dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)),
    "global_max": ("GlobalMaxPool", {}),
    "global_avg": ("GlobalAveragePool", {}),
}


@pytest.mark.parametrize("case", sorted(POOL_CASES))
def test_pools(case, rng):
    op, attrs = POOL_CASES[case]
    model = make([helper.make_node(op, ["x"], ["y"], **attrs)], {"x": (1, 3, 7, 9)}, ["y"])
    check_model(model, [rng.standard_normal((1, 3, 7, 9)).astype(np.float32)])


def test_avgpool_exclusion_it_cannot_express_is_an_error():
    node = helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], pads=[0, 2, 0, 0])
    with pytest.raises(ModelError, match="AveragePool"):
        load_onnx(make([node], {"x": (1, 3, 7, 9)}, ["y"]))


def test_layout_ops_on_nchw_values(rng):
    """Transpose, Concat, Softmax, Pad, Slice, ReduceMean, Squeeze/Unsqueeze, Flatten and a
    Shape->Gather->Concat->Reshape subgraph, all on 4-D values stored NHWC."""
    i64 = lambda v: np.asarray(v, np.int64)  # noqa: E731
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[0, 3, 1, 2]),   # N, W, C, H
        helper.make_node("Softmax", ["r"], ["s"], axis=1),
        helper.make_node("Concat", ["r", "s", "c0"], ["cat"], axis=1),
        helper.make_node("Pad", ["cat", "pads", "pv"], ["pad"]),
        helper.make_node("Slice", ["pad", "st", "en", "ax", "sp"], ["sl"]),
        helper.make_node("ReduceMean", ["sl"], ["rm"], axes=[1, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["rm", "one"], ["us"]),
        helper.make_node("Shape", ["t"], ["shp"]),
        helper.make_node("Gather", ["shp", "idx"], ["g"], axis=0),
        helper.make_node("Concat", ["g", "minus1"], ["newshape"], axis=0),
        helper.make_node("Reshape", ["t", "newshape"], ["rs"]),
        helper.make_node("Flatten", ["sl"], ["fl"], axis=2),
        helper.make_node("Squeeze", ["us", "one"], ["sq"]),
    ]
    inits = dict(c0=rng.standard_normal((1, 2, 5, 6)).astype(np.float32),
                 pads=i64([0, 0, 1, 0, 0, 0, 0, 2]), pv=np.float32(0.5),
                 st=i64([1, -1, 4]), en=i64([7, -100, 0]), ax=i64([1, 2, 3]),
                 sp=i64([2, -2, -1]), one=i64([1]), idx=i64([0, 1]), minus1=i64([-1]))
    model = make(nodes, {"x": (1, 3, 5, 6)}, ["t", "pad", "sl", "us", "rs", "fl", "sq"], inits,
                 opset=13)
    check_model(model, [rng.standard_normal((1, 3, 5, 6)).astype(np.float32)])
    check_model(model, [rng.standard_normal((1, 3, 5, 6)).astype(np.float32)],
                keep_nchw_io=True)


def test_activations_and_arithmetic(rng):
    nodes = [
        helper.make_node("Clip", ["x", "zero", "six"], ["c6"]),
        helper.make_node("Clip", ["x", "m1", "p1"], ["c1"]),
        helper.make_node("LeakyRelu", ["x"], ["lr"], alpha=0.2),
        helper.make_node("HardSigmoid", ["x"], ["hs"], alpha=0.3, beta=0.4),
        helper.make_node("HardSwish", ["x"], ["hw"]),
        helper.make_node("Div", ["x", "k"], ["dv"]),
        helper.make_node("Sub", ["k", "x"], ["sb"]),
        helper.make_node("Sub", ["x", "k"], ["sc"]),
        helper.make_node("Mul", ["x", "vec"], ["mv"]),
        helper.make_node("Add", ["lr", "hw"], ["ad"]),
        helper.make_node("Sigmoid", ["ad"], ["sg"]),
        helper.make_node("Identity", ["sg"], ["id"]),
        helper.make_node("Dropout", ["id"], ["dr"]),
        helper.make_node("Tanh", ["dr"], ["th"]),
    ]
    inits = dict(zero=np.float32(0), six=np.float32(6), m1=np.float32(-1), p1=np.float32(1),
                 k=rng.uniform(1, 2, (3, 1, 1)).astype(np.float32),
                 vec=rng.standard_normal(6).astype(np.float32))
    outs = ["c6", "c1", "hs", "dv", "sb", "sc", "mv", "th"]
    model = make(nodes, {"x": (1, 3, 4, 6)}, outs, inits)
    check_model(model, [rng.standard_normal((1, 3, 4, 6)).astype(np.float32) * 4])


def test_gemm_variants_and_old_opsets(rng):
    nodes = [helper.make_node("Gemm", ["x", "w", "c"], ["y"], alpha=0.5, beta=2.0),
             helper.make_node("Reshape", ["y", "shape"], ["y3"]),
             helper.make_node("Softmax", ["y3"], ["s"], axis=1)]   # opset 11: 2-D coercion
    inits = dict(w=rng.standard_normal((7, 12)).astype(np.float32),
                 c=rng.standard_normal((1, 12)).astype(np.float32),
                 shape=np.asarray([2, 3, 4], np.int64))
    model = make(nodes, {"x": (2, 7)}, ["s"], inits, opset=11)
    check_model(model, [rng.standard_normal((2, 7)).astype(np.float32)])
    clip = make([helper.make_node("Clip", ["x"], ["y"], min=0.0, max=6.0)], {"x": (2, 7)},
                ["y"], opset=6)
    assert kinds(check_model(clip, [rng.standard_normal((2, 7)).astype(np.float32) * 8])) == \
        ["RELU6"]
