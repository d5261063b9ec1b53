"""int16 kernels TFLite Micro has for ops fitml already ran in int8 (issue 15): LEAKY_RELU (a
registered dtype variant), PAD, STRIDED_SLICE and MUL in a 16x8 model from TensorFlow's
converter, MUL with broadcasting and fused activations, and QUANTIZE's integer requantizations
(int32 -> int16 / int8, int8 / int16 -> int32): bit-exact in the reference, TFLM, host C and
QEMU. HARD_SWISH, which TFLM runs in float32 and int8 only, is refused in int16 by name."""
from __future__ import annotations

import os

import numpy as np
import pytest

from int16_cases import input_cases
from tf_convert import convert_keras
import oplab
from oplab import assert_exact
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HW = (8, 8, 3)


def keras_16x8(path) -> bytes:
    """Conv -> LeakyReLU(0.2) -> ZeroPadding2D -> strided slice -> LeakyReLU(1.7) -> x * conv(x)
    -> Dense."""
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(3)
    L = tf.keras.layers
    inp = tf.keras.Input(HW, batch_size=1)
    x = L.LeakyReLU(0.2)(L.Conv2D(8, 3, padding="same")(inp))
    x = L.ZeroPadding2D(((1, 0), (0, 2)))(x)
    x = L.LeakyReLU(1.7)(x[:, 1:8:2, :, 2:7])
    x = L.Multiply()([x, L.Conv2D(5, 1)(x)])
    model = tf.keras.Model(inp, L.Dense(4)(L.Flatten()(x)))
    blob = convert_keras(model, "int16")
    path.write_bytes(blob)
    return blob


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """(graph, .tflite bytes, inputs): quantized floats and full-range int16."""
    path = tmp_path_factory.mktemp("int16v") / "leaky_16x8.tflite"
    blob = keras_16x8(path)
    graph = load_tflite(str(path))
    t = graph.tensors[graph.inputs[0]]
    return graph, blob, input_cases(t, 5, 2)


def test_leaky_relu_int16_is_a_registered_variant():
    table = registry.variants("LEAKY_RELU")
    assert {k: f.__module__.rsplit(".", 1)[1] for k, f in table.items()} == {
        ("reference", ("int16", "none")): "int16_leaky_relu",
        ("lower_c", ("int16", "none")): "int16_leaky_relu",
        ("lower_c", ("int8", "none")): "lut_lowering"}


def test_converter_emits_int16_ops(model):
    graph = model[0]
    kinds = [op.kind for op in graph.ops]
    assert kinds.count("LEAKY_RELU") == 2 and {"PAD", "STRIDED_SLICE", "MUL"} <= set(kinds), \
        kinds
    for op in graph.ops:
        assert graph.tensors[op.outputs[0]].dtype == "int16", op.kind


def test_reference_equals_tflm(model):
    from toolchain.verify.tflm import run_tflm
    graph, blob, cases = model
    written = write_tflite(graph)
    for i, x in enumerate(cases):
        want = run_graph(graph, x)[0]
        for tag, b in (("converter", blob), ("written", written)):
            got = np.asarray(run_tflm(b, x)[0]).reshape(want.shape)
            assert_exact(want, got, f"{tag} case {i}")


@pytest.mark.parametrize("executor,target", [("host", None), ("qemu", "cortex-m4")])
def test_generated_c_bit_exact(model, executor, target):
    graph, _, cases = model
    run = get_executor(executor)
    kw = {} if target is None else dict(target=target)
    for i, x in enumerate(cases):
        assert_exact(run_graph(graph, x)[0], run(graph, x, **kw).outputs[0],
                     f"{executor} {target} case {i}")


# (input dtype, scale, zp), (output dtype, scale, zp): TFLM's integer QUANTIZE pairs
REQUANTIZE = [
    (("int32", 1 / 1024, 0), ("int16", 1 / 4096, 0)),
    (("int32", 0.37, 0), ("int16", 0.011, 0)),
    (("int32", 1 / 256, 0), ("int8", 0.3, -7)),
    (("int8", 0.05, 3), ("int32", 0.0007, 0)),
    (("int16", 1 / 4096, 0), ("int32", 1e-5, 0)),
]


@pytest.mark.parametrize("src,dst", REQUANTIZE, ids=[f"{a[0]}-{b[0]}-{a[1]:.3g}"
                                                      for a, b in REQUANTIZE])
def test_integer_quantize_matches_tflm_and_c(src, dst):
    rng = np.random.default_rng(int(src[1] * 1e4))
    x = oplab.act("x", (2, 3, 37), src[0], scale=src[1], zp=src[2])
    out = oplab.act("out", x.shape, dst[0], scale=dst[1], zp=dst[2])
    graph = oplab.one_op("QUANTIZE", [x], dict(dtype=dst[0]), out)
    oplab.check_tflm(graph, rng)
    host = get_executor("host")
    info = np.iinfo(src[0])
    wide = rng.integers(max(info.min, -2**20), min(info.max, 2**20) + 1, x.shape).astype(src[0])
    for i, arrays in enumerate((oplab.random_inputs(graph, rng), [wide])):
        assert_exact(run_graph(graph, arrays)[0], host(graph, arrays).outputs[0],
                     f"host case {i}")


MUL_CASES = [((2, 3, 7), (2, 3, 7), "NONE"), ((1, 4, 5, 6), (1, 1, 1, 6), "RELU"),
             ((3, 1, 5), (1, 4, 1), "RELU6"), ((9,), (9,), "RELU_N1_TO_1")]


@pytest.mark.parametrize("shape1,shape2,act", MUL_CASES, ids=[c[2] for c in MUL_CASES])
def test_int16_mul_matches_tflm_and_c(shape1, shape2, act):
    rng = np.random.default_rng(len(shape1) * 10 + len(act))
    a = oplab.act("a", shape1, "int16", scale=1 / 4096)
    b = oplab.act("b", shape2, "int16", scale=1 / 8192)
    attrs = dict(activation=act)
    graph = oplab.one_op("MUL", [a, b], attrs,
                         oplab.out_like("MUL", [a, b], attrs, scale=1 / 1500, zp=0))
    oplab.check_tflm(graph, rng)
    arrays = oplab.random_inputs(graph, rng)
    got = get_executor("host")(graph, arrays).outputs[0]
    assert got.dtype == np.int16
    assert_exact(run_graph(graph, arrays)[0], got)


def test_int16_hard_swish_is_refused_by_name():
    from toolchain.ir import GraphError
    x = oplab.act("x", (1, 8), "int16", scale=1 / 4096)
    out = oplab.act("out", (1, 8), "int16", scale=1 / 4096)
    with pytest.raises(GraphError, match="HARD_SWISH: int16 input not supported"):
        oplab.one_op("HARD_SWISH", [x], {}, out)


def test_a_lone_reshape_builds_and_runs_in_c():
    """A graph whose only op aliases its input (no kernel call) still compiles (-Werror)."""
    x = oplab.act("x", (1, 4, 5, 6), "int16", scale=1 / 4096)
    shape = oplab.const("s", np.array([1, 120], np.int32))
    attrs = dict(new_shape=(1, 120))
    graph = oplab.one_op("RESHAPE", [x, shape], attrs, oplab.out_like("RESHAPE", [x, shape],
                                                                      attrs, scale=1 / 4096))
    arrays = oplab.random_inputs(graph, np.random.default_rng(1))
    assert_exact(arrays[0].reshape(1, 120), get_executor("host")(graph, arrays).outputs[0])


LEAKY = [(0.2, 1 / 4096, 0, 1 / 4096, 0), (-0.3, 1 / 2048, 17, 1 / 3000, -40),
         (2.5, 0.001, -5, 0.004, 3), (0.0, 1 / 8192, 0, 1 / 16384, 0)]


@pytest.mark.parametrize("alpha,s_in,zp_in,s_out,zp_out", LEAKY,
                         ids=[f"alpha{c[0]}" for c in LEAKY])
def test_int16_leaky_relu_every_code(alpha, s_in, zp_in, s_out, zp_out):
    """All 65536 int16 codes: reference == TFLM == host C (zero points too: TFLM allows them)."""
    from toolchain.verify.tflm import run_tflm
    x = oplab.act("x", (1, 65536), "int16", scale=s_in, zp=zp_in)
    attrs = dict(alpha=alpha)
    graph = oplab.one_op("LEAKY_RELU", [x], attrs, oplab.act("out", x.shape, "int16",
                                                              scale=s_out, zp=zp_out))
    codes = [np.arange(-32768, 32768, dtype=np.int16).reshape(1, -1)]
    want = run_graph(graph, codes)[0]
    assert want.dtype == np.int16 and len(np.unique(want)) > 1000
    assert_exact(want, np.asarray(run_tflm(write_tflite(graph), codes)[0]).reshape(want.shape),
                 "tflm")
    assert_exact(want, get_executor("host")(graph, codes).outputs[0], "host")
