"""ONNX Resize (nearest and linear, the coordinate modes TFLite computes), DepthToSpace and
SpaceToDepth: fitml's reference, LiteRT on the written .tflite and the host C equal
onnxruntime; the modes TFLite cannot compute are refused by name."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from onnx_cases import check_model, close, make, ort_run, to_nhwc
from toolchain.errors import ModelError
from toolchain.frontends.onnx import load_onnx
from toolchain.verify.executors import get_executor

SHAPE = (1, 3, 4, 6)


def model(node_attrs: dict, op="Resize", scales=None, sizes=None, shape=SHAPE) -> bytes:
    inits, names = {}, ["x"]
    if op == "Resize":
        names += ["", "scales" if scales is not None else "",
                  "sizes" if sizes is not None else ""]
        if scales is not None:
            inits["scales"] = np.asarray(scales, np.float32)
        if sizes is not None:
            inits["sizes"] = np.asarray(sizes, np.int64)
    return make([helper.make_node(op, names, ["y"], **node_attrs)], {"x": shape}, ["y"], inits)


CASES = {
    "nearest_asymmetric_floor": (dict(mode="nearest", coordinate_transformation_mode=
                                      "asymmetric", nearest_mode="floor"), [1, 1, 2, 1.5], None),
    "nearest_default_x2": (dict(mode="nearest"), [1, 1, 2, 2], None),
    "nearest_align_corners": (dict(mode="nearest", coordinate_transformation_mode=
                                   "align_corners", nearest_mode="round_prefer_ceil"), None,
                              [1, 3, 7, 5]),
    "linear_half_pixel": (dict(mode="linear"), None, [1, 3, 9, 11]),
    "linear_align_corners": (dict(mode="linear", coordinate_transformation_mode=
                                  "align_corners"), None, [1, 3, 7, 9]),
    "linear_asymmetric_down": (dict(mode="linear", coordinate_transformation_mode=
                                    "asymmetric"), None, [1, 3, 3, 4]),
}


@pytest.mark.parametrize("name", CASES)
def test_resize_equals_onnxruntime(name, rng):
    attrs, scales, sizes = CASES[name]
    blob = model(attrs, scales=scales, sizes=sizes)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    check_model(blob, [x])
    graph = load_onnx(blob)
    want = ort_run(blob, [x])[0]
    close(to_nhwc(want), get_executor("host")(graph, [to_nhwc(x)]).outputs[0], "host C")


@pytest.mark.parametrize("op, attrs, shape", [
    ("DepthToSpace", dict(blocksize=2), (1, 8, 3, 2)),
    ("SpaceToDepth", dict(blocksize=2), (1, 3, 4, 6))])
def test_depth_space_equal_onnxruntime(op, attrs, shape, rng):
    blob = model(attrs, op=op, shape=shape)
    check_model(blob, [rng.standard_normal(shape).astype(np.float32)])


@pytest.mark.parametrize("attrs, needle", [
    (dict(mode="cubic"), "mode 'cubic' is not supported"),
    (dict(mode="nearest", coordinate_transformation_mode="half_pixel",
          nearest_mode="round_prefer_ceil"), "coordinate_transformation_mode 'half_pixel'"),
])
def test_unsupported_resize_modes_are_refused(attrs, needle):
    with pytest.raises(ModelError, match=needle):
        load_onnx(model(attrs, scales=[1, 1, 2, 2]))


def test_crd_depth_to_space_is_refused():
    with pytest.raises(ModelError, match="DepthToSpace mode 'CRD' is not supported"):
        load_onnx(model(dict(blocksize=2, mode="CRD"), op="DepthToSpace", shape=(1, 8, 3, 2)))
