"""RELU and RELU6 vs TFLite Micro (int8, int16, float with LiteRT), their checks; the
element-wise ops' TFLite options round trip, MACs and the .tflite reader round trip."""
from __future__ import annotations

import numpy as np
import pytest

from elementwise_cases import ACTS, GRID, assert_tflm, binary, unary
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph


# ---- RELU / RELU6 -------------------------------------------------------------------------

RELU_Q = [((0.05, 3), (0.05, 3)), ((0.05, 3), (0.02, -128)), ((0.03, -100), (0.1, 20)),
          ((0.2, 60), (0.01, -50))]


@pytest.mark.parametrize("case", range(len(RELU_Q)))
@pytest.mark.parametrize("kind", ["RELU", "RELU6"])
def test_relu_int8_matches_tflm(kind, case):
    qi, qo = RELU_Q[case]
    g = unary(kind, (5, 51), "int8", "int8", qi, qo)
    inputs = oplab.random_inputs(g, np.random.default_rng(case))
    out = assert_tflm(g, inputs, litert=qi == qo)
    if kind == "RELU":
        assert out.min() >= qo[1]


def test_relu6_clamps_raw_input_codes():
    """TFLM RELU6 reads only the input quantization: codes clamp to [zp_in, q(6)]."""
    q = GRID.astype(np.int8).reshape(1, 256)
    for (s, zp), top in [((0.1, -20), 40), ((0.01, 5), 127)]:
        g = unary("RELU6", (1, 256), "int8", "int8", (s, zp), (0.5, 0))
        np.testing.assert_array_equal(assert_tflm(g, [q]), np.clip(q, zp, top))


@pytest.mark.parametrize("kind", ["RELU", "RELU6"])
def test_relu_int16_matches_tflm(kind):
    g = unary(kind, (4, 30), "int16", "int16", (0.001, 0), (0.0007, 0))
    assert_tflm(g, oplab.random_inputs(g, np.random.default_rng(2)))


@pytest.mark.parametrize("kind", ["RELU", "RELU6"])
def test_relu_float_matches_tflm_and_litert(kind):
    g = unary(kind, (3, 4, 20), "float32", "float32")
    x = (np.random.default_rng(6).standard_normal((3, 4, 20)) * 5).astype(np.float32)
    out = assert_tflm(g, [x], litert=True)
    np.testing.assert_array_equal(out, np.clip(x, 0, 6 if kind == "RELU6" else None))


def test_unary_checks():
    with pytest.raises(GraphError, match="zero point 0"):
        unary("RELU", (2,), "int16", "int16", (0.01, 1), (0.01, 0))
    with pytest.raises(GraphError, match="int32 not supported"):
        unary("RELU6", (2,), "int32", "int32")


# ---- options and costs --------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
def test_binary_options_round_trip(kind):
    opdef = registry.get(kind)
    assert opdef.tflite_options == kind.capitalize() + "Options"
    for act in ACTS:
        options = opdef.attrs_to_tflite({"activation": act})
        assert type(options).__name__ == opdef.tflite_options + "T"
        assert opdef.attrs_from_tflite(options) == {"activation": act}
    assert opdef.attrs_from_tflite(None) == {"activation": "NONE"}


@pytest.mark.parametrize("kind", ["QUANTIZE", "DEQUANTIZE", "RELU", "RELU6"])
def test_unary_have_no_options(kind):
    opdef = registry.get(kind)
    assert opdef.tflite_options is None and opdef.attrs_to_tflite({}) is None


def test_macs():
    from toolchain.ops.registry import Node
    for kind, want in [("MUL", 2 * 3 * 4), ("ADD", 0), ("SUB", 0)]:
        g = binary(kind, (2, 3, 1), (3, 4))
        assert registry.get(kind).macs(Node.of(g, g.ops[0])) == want


def test_tflite_reader_round_trip():
    """write_tflite -> load_tflite keeps kind and attrs, and the reference gives equal codes."""
    from toolchain.frontends.tflite import load_tflite

    rng = np.random.default_rng(9)
    graphs = [binary(k, (2, 3, 4), (4,), q1=(0.1, 2), q2=(0.03, -9), qo=(0.2, 4), act=a)
              for k, a in [("ADD", "RELU"), ("SUB", "RELU6"), ("MUL", "RELU_N1_TO_1")]]
    graphs += [unary("RELU", (5, 6), "int8", "int8", (0.1, 3), (0.05, -100)),
               unary("RELU6", (5, 6), "int8", "int8", (0.1, 3), (0.1, 3)),
               unary("DEQUANTIZE", (5, 6), "int8", "float32", (0.1, 3)),
               unary("QUANTIZE", (5, 6), "float32", "int8", qo=(0.1, 3))]
    for g in graphs:
        back = load_tflite(write_tflite(g))
        assert [(op.kind, dict(op.attrs)) for op in back.ops] == \
            [(op.kind, dict(op.attrs)) for op in g.ops]
        inputs = oplab.random_inputs(g, rng)
        np.testing.assert_array_equal(run_graph(back, inputs)[0], run_graph(g, inputs)[0])
