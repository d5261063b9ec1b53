"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR from TensorFlow's converter (tf.image.resize,
tf.compat.v1's align_corners / half_pixel_centers forms, up- and downscaling, odd ratios;
float32, int8 and for nearest 16x8): the reference equals TFLite Micro bit for bit, on the
converter's file and on the one fitml writes back, and the generated C equals it on the host
and under QEMU; a small detection-style model (conv backbone, UpSampling2D, concat head) too.
"""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from oplab import act, const
from tf_convert import check_model, convert, op_kinds, tf
from toolchain.ir import GraphError, Op
from toolchain.ops import registry


def v1_resize(method: str, size, align_corners=False, half_pixel_centers=False):
    def fn(x):
        image = tf().compat.v1.image
        resize = image.resize_bilinear if method == "bilinear" else image.resize_nearest_neighbor
        return resize(x, size, align_corners=align_corners, half_pixel_centers=half_pixel_centers)
    return fn


def v2_resize(method: str, size):
    return lambda x: tf().image.resize(x, size, method=method)


# name -> (function, input shape, op kind)
NEAREST, BILINEAR = "RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"
CASES = {
    "nearest_half_pixel_up": (v2_resize("nearest", (9, 14)), (1, 4, 6, 3), NEAREST),
    "nearest_align_odd": (v1_resize("nearest", (7, 4), align_corners=True), (1, 5, 7, 2),
                          NEAREST),
    "nearest_plain_down": (v1_resize("nearest", (3, 5)), (2, 8, 6, 3), NEAREST),
    "bilinear_half_pixel_up": (v2_resize("bilinear", (7, 11)), (1, 3, 5, 4), BILINEAR),
    "bilinear_align_up": (v1_resize("bilinear", (7, 9), align_corners=True), (1, 4, 4, 3),
                          BILINEAR),
    "bilinear_plain_mixed": (v1_resize("bilinear", (4, 9)), (2, 6, 6, 2), BILINEAR),
    "bilinear_half_pixel_down": (v1_resize("bilinear", (3, 4), half_pixel_centers=True),
                                 (1, 7, 9, 3), BILINEAR),
}
MODES = {NEAREST: ("float32", "int8", "int16"), BILINEAR: ("float32", "int8")}


@pytest.fixture(scope="module")
def models():
    """Each case converted once per mode: {(case, mode): .tflite bytes}."""
    return {(name, mode): convert(fn, [shape], mode, seed=k)
            for k, (name, (fn, shape, kind)) in enumerate(CASES.items()) for mode in MODES[kind]}


@pytest.mark.parametrize("name, mode", [(name, mode) for name, (_, _, kind) in CASES.items()
                                        for mode in MODES[kind]])   # TFLM has no int16 bilinear
def test_reference_and_host_c_equal_tflm(models, name, mode):
    model = models[name, mode]
    assert CASES[name][2] in op_kinds(model), op_kinds(model)
    for seed in range(2):
        check_model(model, np.random.default_rng(seed))


@pytest.mark.parametrize("name", ["nearest_align_odd", "bilinear_half_pixel_up",
                                  "bilinear_align_up"])
def test_qemu_equals_tflm(models, name):
    check_model(models[name, "int8"], np.random.default_rng(3), executors=("qemu",))
    check_model(models[name, "float32"], np.random.default_rng(4), executors=("qemu",),
                target="cortex-m0")


def detector(interpolation: str) -> bytes:
    """32x32x3 -> two stride-2 convs -> UpSampling2D x2 -> concat with the 16x16 map -> 1x1
    conv head (6 values per cell): the feature-pyramid shape of small detectors."""
    k = pytest.importorskip("tf_keras")
    k.utils.set_random_seed(6)
    L = k.layers
    inp = k.Input((32, 32, 3), batch_size=1)
    c1 = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inp)
    c2 = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(c1)
    up = L.UpSampling2D(2, interpolation=interpolation)(c2)
    head = L.Conv2D(6, 1)(L.Concatenate()([up, c1]))
    model = k.Model(inp, head)
    return convert(lambda x: model(x), [(1, 32, 32, 3)], "int8", seed=11)


@pytest.fixture(scope="module")
def detectors():
    return {kind: detector(kind) for kind in ("nearest", "bilinear")}


@pytest.mark.parametrize("interpolation, kind", [("nearest", NEAREST), ("bilinear", BILINEAR)])
def test_detector_equals_tflm_in_reference_host_and_qemu(detectors, interpolation, kind):
    model = detectors[interpolation]
    assert kind in op_kinds(model) and "CONCATENATION" in op_kinds(model), op_kinds(model)
    check_model(model, np.random.default_rng(0))
    check_model(model, np.random.default_rng(1), executors=("qemu",))


def _infer(kind, size, attrs, dtype="int8", shape=(1, 4, 4, 2)):
    x, s = act("x", shape, dtype), const("size", np.asarray(size, np.int32))
    return registry.get(kind).infer(Op(kind, ["x", "size"], [], attrs), [x, s])


@pytest.mark.parametrize("kind, size, attrs, dtype, shape, needle", [
    (BILINEAR, [4, 4], dict(align_corners=True, half_pixel_centers=True), "int8", (1, 4, 4, 2),
     "exclusive"),
    (NEAREST, [4, 0], {}, "int8", (1, 4, 4, 2), "2 positive values"),
    (NEAREST, [4, 4, 4], {}, "int8", (1, 4, 4, 2), "2 positive values"),
    (BILINEAR, [4, 4], {}, "int16", (1, 4, 4, 2), "int16 .*TFLite Micro takes float32, int8"),
    (NEAREST, [4, 4], {}, "int8", (4, 4, 2), "must be 4-D NHWC"),
])
def test_malformed_resizes_are_refused(kind, size, attrs, dtype, shape, needle):
    with pytest.raises(GraphError, match=needle):
        _infer(kind, size, attrs, dtype, shape)


def test_int8_bilinear_reading_past_the_input_is_refused():
    """1 -> 1500 rows: TFLite's 10-bit scale rounds to 1/1024, so TFLM's lower source row
    reaches 1 in a 1-row input (an out-of-bounds read); fitml refuses the graph."""
    x, size = act("x", (1, 1, 1, 2), "int8"), const("size", np.asarray([1500, 1], np.int32))
    out = oplab.out_like(BILINEAR, [x, size], {}, scale=0.05, zp=0)
    with pytest.raises(GraphError, match="source index past the input"):
        oplab.one_op(BILINEAR, [x, size], {}, out)
