"""C kernels vs the numpy reference, through ctypes: element-wise ops (ADD/SUB/MUL with
broadcasting), SOFTMAX, the activations (every int8 code where it matters), QUANTIZE /
DEQUANTIZE / requantize and MEAN."""
from __future__ import annotations

import numpy as np
import pytest

from ckernels import ACTS, check, lower, quant_x
from oplab import act, const, one_op, out_like
from toolchain.lowering.cvariant import plain_layouts
from toolchain.ops.registry import Node


def broadcast_shapes(rng):
    rank = int(rng.integers(1, 6))
    out = [int(v) for v in rng.integers(1, 5, rank)]
    a = [d if rng.random() < 0.7 else 1 for d in out]
    b = [d if rng.random() < 0.7 else 1 for d in out][int(rng.integers(0, rank)):]
    return (a, b) if rng.random() < 0.5 else (b, a)


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_binary_broadcast(lib, kind, dtype):
    rng = np.random.default_rng([5, ("ADD", "SUB", "MUL").index(kind), dtype == "int8"])
    for i in range(25):
        sa, sb = broadcast_shapes(rng) if i % 5 else ([2, 3, 4], [2, 3, 4])
        attrs = dict(activation=ACTS[i % 4])
        if dtype == "float32":
            a, b = act("a", sa, "float32"), act("b", sb, "float32")
            out = out_like(kind, [a, b], attrs)
        else:
            a = act("a", sa, "int8", float(rng.uniform(0.01, 0.2)), int(rng.integers(-128, 128)))
            b = act("b", sb, "int8", float(rng.uniform(0.01, 0.2)), int(rng.integers(-128, 128)))
            s_out = float(rng.uniform(0.01, 0.3)) * (a.quant.s * 20 if kind == "MUL" else 1)
            out = out_like(kind, [a, b], attrs, scale=s_out, zp=int(rng.integers(-50, 51)))
        check(lib, one_op(kind, [a, b], attrs, out), rng, label=f"case {i} {sa} {sb}")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_softmax(lib, dtype):
    rng = np.random.default_rng([6, dtype == "int8"])
    for i in range(12):
        shape = [int(v) for v in rng.integers(1, 12, int(rng.integers(1, 4)))]
        attrs = dict(beta=float(rng.choice([1.0, 0.5, 2.0, 0.1])))
        if dtype == "float32":
            x = act("x", shape, "float32")
            out = out_like("SOFTMAX", [x], attrs)
        else:
            x = quant_x(rng, shape)
            x = x.replace(quant=type(x.quant)(float(rng.uniform(0.02, 0.5)), x.quant.zp))
            out = out_like("SOFTMAX", [x], attrs, scale=1 / 256, zp=-128)
        check(lib, one_op("SOFTMAX", [x], attrs, out), rng, label=f"case {i}")


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
def test_logistic_tanh_int8_every_code(lib, kind):
    rng = np.random.default_rng([7, kind == "TANH"])
    codes = np.arange(-128, 128, dtype=np.int8)
    for i in range(12):
        s_in = float(np.exp(rng.uniform(np.log(1e-3), np.log(0.5))))
        x = act("x", (256,), "int8", s_in, int(rng.integers(-128, 128)))
        out = (out_like(kind, [x], {}, scale=1 / 256, zp=-128) if kind == "LOGISTIC"
               else out_like(kind, [x], {}, scale=1 / 128, zp=0))
        check(lib, one_op(kind, [x], {}, out), rng, inputs=[codes], label=f"s_in={s_in}")


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH", "RELU", "RELU6"])
def test_float_unary(lib, kind):
    rng = np.random.default_rng([8, len(kind)])
    x = act("x", (3, 50), "float32")
    values = (rng.standard_normal((3, 50)) * 8).astype(np.float32)
    values[0, :4] = [-9.5, 17.0, 0.0, 6.0]
    check(lib, one_op(kind, [x], {}, out_like(kind, [x], {})), rng, 2e-7, inputs=[values])


@pytest.mark.parametrize("kind", ["RELU", "RELU6"])
def test_relu_int8(lib, kind):
    rng = np.random.default_rng([9, kind == "RELU6"])
    codes = np.arange(-128, 128, dtype=np.int8)
    for i in range(10):
        x = act("x", (256,), "int8", float(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128)))
        out = out_like(kind, [x], {}, scale=float(rng.uniform(0.005, 0.1)),
                       zp=int(rng.integers(-128, 128)))
        check(lib, one_op(kind, [x], {}, out), rng, inputs=[codes], label=f"case {i}")


def hard_swish_scales(rng, i):
    """(s_in, s_out): wide and tiny input scales (left and right reluish shifts), output scales
    down to TFLM's floor s_in / 128 (output shift 0) and far above it."""
    s_in = float(np.exp(rng.uniform(np.log(2e-4), np.log(2.0))))
    if i % 4 == 0:
        return s_in, s_in / 128 * float(rng.uniform(1.0, 1.05))
    return s_in, s_in * float(np.exp(rng.uniform(np.log(0.05), np.log(40.0))))


def test_hard_swish_int8_every_code(lib):
    rng = np.random.default_rng(21)
    codes = np.arange(-128, 128, dtype=np.int8)
    exponents = set()
    for i in range(40):
        s_in, s_out = hard_swish_scales(rng, i)
        x = act("x", (256,), "int8", s_in, int(rng.integers(-128, 128)))
        out = out_like("HARD_SWISH", [x], {}, scale=s_out, zp=int(rng.integers(-128, 128)))
        graph = one_op("HARD_SWISH", [x], {}, out)
        with plain_layouts(["out"]):    # its own kernel, not the table (tests/test_lut.py)
            p = lower(Node.of(graph, graph.ops[0])).params
            exponents |= {("out", p["output_shift"] == 0),
                          ("reluish", np.sign(p["reluish_shift"]))}
            check(lib, graph, rng, inputs=[codes], label=f"case {i} s_in={s_in} s_out={s_out}")
    assert exponents >= {("out", True), ("out", False), ("reluish", 1), ("reluish", -1)}


@pytest.mark.parametrize("alpha", [0.2, 0.01, -0.3, 2.5, 0.0, 1.0])
def test_leaky_relu_int8_every_code(lib, alpha):
    rng = np.random.default_rng([22, int(alpha * 100) + 50])
    codes = np.arange(-128, 128, dtype=np.int8)
    for i in range(12):
        s_in = float(rng.uniform(0.002, 0.3))
        x = act("x", (256,), "int8", s_in, int(rng.integers(-128, 128)))
        attrs = dict(alpha=alpha)
        out = out_like("LEAKY_RELU", [x], attrs, scale=s_in * float(rng.uniform(0.05, 4.0)),
                       zp=int(rng.integers(-128, 128)))
        with plain_layouts(["out"]):    # its own kernel, not the table (tests/test_lut.py)
            check(lib, one_op("LEAKY_RELU", [x], attrs, out), rng, inputs=[codes],
                  label=f"case {i}")


@pytest.mark.parametrize("kind,attrs", [("HARD_SWISH", {}), ("LEAKY_RELU", {}),
                                        ("LEAKY_RELU", dict(alpha=0.1)),
                                        ("LEAKY_RELU", dict(alpha=-1.7))])
def test_hard_swish_leaky_relu_float_exact(lib, kind, attrs):
    """Same float32 operations in the same order as the reference: equal bit for bit."""
    rng = np.random.default_rng([23, len(kind), len(attrs)])
    x = act("x", (4, 100), "float32")
    values = (rng.standard_normal((4, 100)) * 5).astype(np.float32)
    values[0, :9] = [-3.0, 3.0, 0.0, -0.0, -1e30, 1e30, -2.9999998, 1e-40, -1e-40]
    check(lib, one_op(kind, [x], attrs, out_like(kind, [x], attrs)), rng, inputs=[values],
          exact=True)


def test_quantize_dequantize_requantize(lib):
    rng = np.random.default_rng(10)
    for i in range(10):
        scale, zp = float(rng.uniform(0.005, 0.2)), int(rng.integers(-128, 128))
        x = act("x", (400,), "float32")
        values = (rng.standard_normal(400) * 128 * scale).astype(np.float32)
        ties = (np.arange(-150, 150) + 0.5).astype(np.float32) * np.float32(scale)
        values[:300] = ties
        values[300:306] = [np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0]
        out = act("out", (400,), "int8", scale, zp)
        check(lib, one_op("QUANTIZE", [x], dict(dtype="int8"), out), rng, inputs=[values],
              label=f"quantize {i}")
        q = act("q", (256,), "int8", scale, zp)
        codes = [np.arange(-128, 128, dtype=np.int8)]
        check(lib, one_op("DEQUANTIZE", [q], {}, act("f", (256,), "float32")), rng, 0,
              inputs=codes, label=f"dequantize {i}")
        out = act("r", (256,), "int8", float(rng.uniform(0.005, 0.2)), int(rng.integers(-128, 128)))
        check(lib, one_op("QUANTIZE", [q], dict(dtype="int8"), out), rng, inputs=codes,
              label=f"requantize {i}")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_mean(lib, dtype):
    rng = np.random.default_rng([11, dtype == "int8"])
    for i in range(15):
        rank = int(rng.integers(1, 5))
        shape = [int(v) for v in rng.integers(1, 7, rank)]
        axes = sorted({int(a) for a in rng.integers(-rank, rank, int(rng.integers(1, rank + 1)))})
        attrs = dict(keep_dims=bool(i % 2))
        x = quant_x(rng, shape, dtype)
        ax = const("axes", np.array(axes, np.int32))
        scale = None if dtype == "float32" else float(x.quant.s * rng.uniform(0.5, 2))
        zp = None if dtype == "float32" else int(rng.integers(-20, 21))
        out = out_like("MEAN", [x, ax], attrs, scale=scale, zp=zp)
        check(lib, one_op("MEAN", [x, ax], attrs, out), rng, label=f"{shape} axes {axes}")
