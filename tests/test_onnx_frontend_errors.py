"""The ONNX frontend refuses what it cannot run with one clear ModelError naming the node, op
type and opset: unsupported ops and domains, dynamic shapes, other Clip bounds, bad files and
opsets, untrusted models; the CLI's --input-shape."""
from __future__ import annotations


import numpy as np
import pytest
from onnx import TensorProto, helper

from conftest import shared_model
from toolchain import api
from toolchain.errors import ModelError
from toolchain.frontends.onnx import load_onnx
from onnx_cases import close, kinds, make, ort_run

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
