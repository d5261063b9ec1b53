"""The ONNX frontend: shared models reproduce onnxruntime (and mnist-8 its shipped outputs),
torch modules exported both ways equal onnxruntime, hand-built graphs cover each converter's
layout and padding cases, every float graph round-trips through the .tflite writer into LiteRT,
and unsupported input gives a clear ModelError."""
from __future__ import annotations

import io

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import oplab
from conftest import shared_model
from toolchain import api
from toolchain.backends.tflite import write_tflite
from toolchain.errors import ModelError
from toolchain.frontends.onnx import load_onnx
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph

RTOL = 1e-4   # relative to the output's largest magnitude (at least 1)


def close(want, got, label=""):
    want = np.asarray(want, np.float32)
    oplab.assert_close(want, np.asarray(got).reshape(want.shape),
                       RTOL * max(1.0, float(np.abs(want).max())), label)


def to_nhwc(x):
    return x.transpose(0, 2, 3, 1) if x.ndim == 4 else x


def ort_session(model: bytes):
    import onnxruntime as ort

    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def ort_run(model: bytes, inputs):
    sess = ort_session(model)
    return sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), inputs)})


def check_model(model: bytes, inputs, litert=True, **load_args):
    """Import with and without cleanup; reference (and LiteRT) == onnxruntime."""
    want = ort_run(model, inputs)
    graphs = {c: load_onnx(model, cleanup=c, **load_args).validate() for c in (True, False)}
    nchw = load_args.get("keep_nchw_io", False)
    feed = [x if nchw else to_nhwc(x) for x in inputs]
    sess = ort_session(model)
    for cleanup, graph in graphs.items():
        assert graph.inputs == tuple(i.name for i in sess.get_inputs())
        assert graph.outputs == tuple(o.name for o in sess.get_outputs())
        for i, (w, got) in enumerate(zip(want, run_graph(graph, feed))):
            close(w if nchw else to_nhwc(w), got, f"cleanup={cleanup} output {i}")
    if litert:
        for i, (w, got) in enumerate(zip(want, run_litert(write_tflite(graphs[True]), feed))):
            close(w if nchw else to_nhwc(w), got, f"litert output {i}")
    return graphs[True]


def kinds(graph):
    return [op.kind for op in graph.ops]


# --- shared models ------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, 1, 2])
def test_mnist8_reproduces_shipped_outputs(index):
    path = shared_model("onnx/mnist-8.onnx")
    data = path.parent / "mnist8_test_data"
    x = np.load(data / f"set{index}_input_0.npy")
    want = np.load(data / f"set{index}_output_0.npy")
    graph = load_onnx(path)
    close(want, run_graph(graph, [to_nhwc(x)])[0], "reference")
    close(want, run_litert(write_tflite(graph), [to_nhwc(x)])[0], "litert")
    assert graph.tensors[graph.inputs[0]].shape == (1, 28, 28, 1)


SHARED = {"onnx/mnist-8.onnx": (1, 1, 28, 28), "onnx/onnx2c_mnist_pytorch.onnx": (1, 784),
          "onnx/onnx2c_tfl_helloworld.onnx": (1, 1)}


@pytest.mark.parametrize("rel", sorted(SHARED))
def test_shared_models_equal_onnxruntime(rel, rng):
    model = shared_model(rel).read_bytes()
    inputs = [rng.standard_normal(SHARED[rel]).astype(np.float32) * 2]
    graph = check_model(model, inputs)
    assert "MUL" not in kinds(graph) and "ADD" not in kinds(graph), kinds(graph)  # BN, biases


def test_shared_mnist8_cleanup_fuses_bias_relu_and_flatten():
    graph = load_onnx(shared_model("onnx/mnist-8.onnx"))
    # the NCHW flatten's TRANSPOSE is folded into the FC weight columns
    assert kinds(graph) == ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "MAX_POOL_2D", "RESHAPE",
                            "FULLY_CONNECTED"]
    assert [op.attr("activation") for op in graph.ops if op.kind == "CONV_2D"] == ["RELU"] * 2


def test_dynamic_batch_named_like_a_batch_defaults_to_one_or_input_shapes():
    path = shared_model("onnx/onnx2c_tfl_helloworld.onnx")   # input ['N', 1]
    assert load_onnx(path).tensors["dense_2_input"].shape == (1, 1)
    graph = api.load(path, input_shapes={"dense_2_input": (5, 1)})
    assert graph.tensors["dense_2_input"].shape == (5, 1)
    assert graph.tensors[graph.outputs[0]].shape == (5, 1)
    with pytest.raises(ModelError, match="does not fit"):
        load_onnx(path, input_shapes={"dense_2_input": (5, 2)})


# --- torch modules --------------------------------------------------------------------------------
torch = pytest.importorskip("torch")
nn = torch.nn


class CnnBn(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.MaxPool2d(2), nn.Conv2d(8, 12, 3, stride=2),
                                  nn.BatchNorm2d(12), nn.ReLU6(), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten(), nn.Linear(12, 5))

    def forward(self, x):
        return self.body(x)


class DepthwiseSeparable(nn.Module):
    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(6, 12, 3, stride=2, padding=1, groups=6)   # depth multiplier 2
        self.bn1 = nn.BatchNorm2d(12)
        self.pw = nn.Conv2d(12, 8, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)

    def forward(self, x):
        return torch.relu(self.bn2(self.pw(nn.functional.relu6(self.bn1(self.dw(x))))))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(8, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=1, dilation=1)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return torch.relu(x + self.bn(self.b(torch.relu(self.a(x)))))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 32), nn.BatchNorm1d(32), nn.ReLU(),
                                 nn.Dropout(0.3), nn.Linear(32, 16), nn.Tanh(),
                                 nn.Linear(16, 4), nn.Softmax(dim=-1))

    def forward(self, x):
        return self.net(x)


class HardSwishNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 6, 3, padding=1)
        self.d = nn.Conv2d(6, 6, 5, padding=2, groups=6)

    def forward(self, x):
        y = nn.functional.hardswish(self.c(x))
        return nn.functional.hardsigmoid(self.d(y)) * y


class ConcatBranches(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(4, 5, 1)
        self.b = nn.Conv2d(4, 3, 3, padding=1)
        self.p = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x), self.p(x)], dim=1)
        return nn.functional.leaky_relu(y, 0.1), torch.sigmoid(y).mean(dim=(2, 3))


class FlattenAfterConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(2, 4, 3, stride=2, padding=(0, 1))
        self.p = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.fc = nn.Linear(4 * 3 * 4, 6)

    def forward(self, x):
        return self.fc(torch.flatten(self.p(self.c(x)), 1))


class Conv1dNet(nn.Module):
    """1-D convolutions and pools (audio style), chunk (Split) and indexing (Gather)."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(4, 8, 5, stride=2, padding=2)
        self.bn = nn.BatchNorm1d(8)
        self.dw = nn.Conv1d(8, 8, 3, padding=1, groups=8)

    def forward(self, x):
        y = nn.functional.max_pool1d(torch.relu(self.bn(self.c(x))), 2)
        a, b = torch.chunk(self.dw(y), 2, dim=1)
        z = nn.functional.avg_pool1d(a * torch.sigmoid(b), 3, stride=1, padding=1)
        return z[:, 1], z[:, :, 2:5]


TORCH_CASES = {"cnn_bn": (CnnBn, (1, 3, 16, 16)),
               "depthwise_separable": (DepthwiseSeparable, (1, 6, 9, 10)),
               "residual": (Residual, (1, 8, 7, 7)), "mlp": (Mlp, (1, 20)),
               "hardswish": (HardSwishNet, (1, 3, 8, 8)),
               "concat_branches": (ConcatBranches, (1, 4, 6, 6)),
               "flatten_after_conv": (FlattenAfterConv, (1, 2, 9, 11)),
               "conv1d": (Conv1dNet, (1, 4, 20))}


def randomize_bn(module, gen):
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.2)


def export(name: str, dynamo: bool, opset: int | None = None) -> tuple[bytes, np.ndarray]:
    cls, shape = TORCH_CASES[name]
    gen = torch.Generator().manual_seed(sum(map(ord, name)))
    torch.manual_seed(sum(map(ord, name)))
    module = cls().eval()
    with torch.no_grad():
        randomize_bn(module, gen)
    x = torch.randn(shape, generator=gen)
    f = io.BytesIO()
    if dynamo:
        torch.onnx.export(module, (x,), f, dynamo=True, optimize=False, external_data=False,
                          verbose=False)
    else:
        torch.onnx.export(module, (x,), f, dynamo=False, do_constant_folding=False,
                          **({"opset_version": opset} if opset else {}))
    return f.getvalue(), x.numpy()


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_torch_export_equals_onnxruntime(name, dynamo):
    model, x = export(name, dynamo)
    graph = check_model(model, [x])
    assert "BatchNormalization" not in str(kinds(graph))
    if name in ("cnn_bn", "depthwise_separable", "residual", "mlp"):
        assert "MUL" not in kinds(graph), kinds(graph)   # BatchNorm folded away
    if name == "depthwise_separable":
        dw = next(op for op in graph.ops if op.kind == "DEPTHWISE_CONV_2D")
        assert dw.attr("depth_multiplier") == 2 and dw.attr("activation") == "RELU6"
    if name == "hardswish":
        assert "HARD_SWISH" in kinds(graph)


@pytest.mark.parametrize("opset", [11, 13, 17])
@pytest.mark.parametrize("name", ["mlp", "conv1d", "hardswish"])
def test_torch_export_older_opsets(name, opset):
    if name == "hardswish" and opset < 14:
        opset = 14   # HardSwish exists from opset 14
    model, x = export(name, False, opset)
    check_model(model, [x])


# --- hand-built graphs ------------------------------------------------------------------------
def make(nodes, inputs: dict, outputs, inits=None, opset=17) -> bytes:
    vis = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs]
    tensors = [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()]
    graph = helper.make_graph(nodes, "g", vis, outs, tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model.SerializeToString()


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


# --- errors -----------------------------------------------------------------------------------
def test_unsupported_op_names_type_node_and_opset():
    model = make([helper.make_node("Hardmax", ["x"], ["y"], name="my_hardmax")],
                 {"x": (1, 4)}, ["y"], opset=15)
    with pytest.raises(ModelError) as err:
        load_onnx(model)
    msg = str(err.value)
    for part in ("Hardmax", "my_hardmax", "opset 15", "supported ONNX ops:", "Conv"):
        assert part in msg, msg


def test_custom_domain_op_is_unsupported():
    node = helper.make_node("Gelu", ["x"], ["y"], name="g", domain="com.microsoft")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, (1, 4))], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    with pytest.raises(ModelError, match="com.microsoft::Gelu"):
        load_onnx(model.SerializeToString())


def test_dynamic_shape_needs_input_shapes():
    model = make([helper.make_node("Relu", ["x"], ["y"])], {"x": (1, "T")}, ["y"])
    with pytest.raises(ModelError, match=r"input 'x' has dynamic shape \[1, T\]; pass "
                                         r"--input-shape x=1,1"):
        load_onnx(model)
    assert load_onnx(model, input_shapes={"x": (1, 9)}).tensors["x"].shape == (1, 9)
    image = make([helper.make_node("Relu", ["x"], ["y"])], {"x": ("N", 3, "H", "W")}, ["y"])
    with pytest.raises(ModelError, match=r"\[N, H, W, 3\]"):   # reported NHWC
        load_onnx(image)
    assert load_onnx(image, input_shapes={"x": (1, 5, 4, 3)}).tensors["x"].shape == (1, 5, 4, 3)


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (-2.0, 2.0)])
def test_clip_with_other_bounds_is_a_clear_error(bounds):
    inits = dict(lo=np.float32(bounds[0]), hi=np.float32(bounds[1]))
    model = make([helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clipper")],
                 {"x": (1, 4)}, ["y"], inits)
    with pytest.raises(ModelError, match=r"clipper.*Clip to \["):
        load_onnx(model)


def test_bad_files_and_opsets(tmp_path):
    with pytest.raises(ModelError, match="not a readable ONNX model"):
        load_onnx(b"\x00garbage\xff" * 10)
    with pytest.raises(ModelError, match="no such file"):
        api.load(tmp_path / "missing.onnx")
    model = make([helper.make_node("Relu", ["x"], ["y"])], {"x": (1, 4)}, ["y"], opset=5)
    with pytest.raises(ModelError, match="opset 5 is not supported"):
        load_onnx(model)
    path = tmp_path / "relu.onnx"
    path.write_bytes(make([helper.make_node("Relu", ["x"], ["y"])], {"x": (1, 4)}, ["y"]))
    assert kinds(api.load(path)) == ["RELU"]


def test_untrusted_models_fail_with_model_errors():
    relu = make([helper.make_node("Relu", ["x"], ["y"])], {"x": (1, 4)}, ["y"])
    with pytest.raises(ModelError, match="input_shapes names no model input: 'z'"):
        load_onnx(relu, input_shapes={"z": (1, 4)})
    huge = make([helper.make_node("ConstantOfShape", ["shape"], ["c"]),
                 helper.make_node("Add", ["x", "c"], ["y"])], {"x": (1, 4)}, ["y"],
                {"shape": np.asarray([1 << 20, 1 << 20], np.int64)})
    with pytest.raises(ModelError, match="folding would create"):
        load_onnx(huge)
    dynamic = make([helper.make_node("Reshape", ["x", "x"], ["y"])], {"x": (1, 4)}, ["y"])
    with pytest.raises(ModelError, match="Reshape.*must be a constant"):
        load_onnx(dynamic)
    bad_conv = make([helper.make_node("Conv", ["x", "w"], ["y"], group=3)], {"x": (1, 4, 5, 5)},
                    ["y"], {"w": np.zeros((2, 4, 3, 3), np.float32)})
    with pytest.raises(ModelError, match="group=3"):
        load_onnx(bad_conv)
    bad_pool = make([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], pads=[1])],
                    {"x": (1, 4, 5, 5)}, ["y"])
    with pytest.raises(ModelError, match="MaxPool"):
        load_onnx(bad_pool)


def test_cli_input_shape(tmp_path, capsys):
    from toolchain import cli

    path = shared_model("onnx/onnx2c_tfl_helloworld.onnx")
    x = tmp_path / "x.npy"
    np.save(x, np.linspace(0, 6, 3, dtype=np.float32).reshape(3, 1))
    out = tmp_path / "out.npz"
    assert cli.main(["run", str(path), "-i", str(x), "--input-shape", "dense_2_input=3,1",
                     "-o", str(out)]) == 0
    want = ort_run(path.read_bytes(), [np.load(x)])[0]
    close(want, np.load(out)["output_0"])
    assert cli.main(["inspect", str(path), "--input-shape", "dense_2_input=x"]) == 2
    assert "--input-shape" in capsys.readouterr().err


# --- QDQ models ------------------------------------------------------------------------------
class SmallQdqNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        y = nn.functional.max_pool2d(torch.relu(self.c(x)), 2)
        y = y + torch.relu(self.dw(y))
        return self.fc(torch.flatten(y, 1))


def qdq_model(tmp_path, activations="QInt8", weights="QInt8", per_channel=True) -> bytes:
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    torch.manual_seed(7)
    float_path, q_path = tmp_path / "float.onnx", tmp_path / "qdq.onnx"
    torch.onnx.export(SmallQdqNet().eval(), (torch.randn(1, 3, 8, 8),), str(float_path),
                      dynamo=False, input_names=["x"])
    rng = np.random.default_rng(7)
    batches = iter([{"x": rng.standard_normal((1, 3, 8, 8)).astype(np.float32)}
                    for _ in range(8)])

    class Reader(CalibrationDataReader):
        def get_next(self):
            return next(batches, None)

    quantize_static(str(float_path), str(q_path), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=getattr(QuantType, activations),
                    weight_type=getattr(QuantType, weights), per_channel=per_channel)
    return q_path.read_bytes()


@pytest.mark.parametrize("activations,per_channel", [("QInt8", True), ("QUInt8", False)])
def test_qdq_model_imports_int8_and_matches_tflm(tmp_path, rng, activations, per_channel):
    from toolchain.verify.tflm import run_tflm

    model = qdq_model(tmp_path, activations, "QInt8", per_channel)
    graph = load_onnx(model)
    assert kinds(graph)[0] == "QUANTIZE" and kinds(graph)[-1] == "DEQUANTIZE"
    convs = [op for op in graph.ops if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert all(graph.tensors[op.inputs[1]].dtype == "int8" for op in convs)
    assert all(graph.tensors[op.inputs[2]].dtype == "int32" for op in convs)
    out_scale = graph.tensors[graph.ops[-1].inputs[0]].quant.s
    tflite = write_tflite(graph)
    for _ in range(3):
        x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
        want = ort_run(model, [x])[0]
        got = run_graph(graph, [to_nhwc(x)])[0]
        oplab.assert_exact(got, run_tflm(tflite, [to_nhwc(x)])[0], "tflm")
        oplab.assert_close(want, got, 2 * out_scale + 1e-6, "onnxruntime")


def test_qdq_asymmetric_conv_weights_are_rejected(tmp_path):
    model = qdq_model(tmp_path, "QUInt8", "QUInt8", per_channel=False)
    with pytest.raises(ModelError, match="zero point 0"):
        load_onnx(model)
