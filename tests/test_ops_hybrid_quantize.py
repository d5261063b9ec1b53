"""The hybrid kernels' on-the-fly input quantizers (symmetric and asymmetric, per batch row),
hand-computed and as LiteRT applies them (seen through an identity FULLY_CONNECTED); which nodes
are hybrid."""
from __future__ import annotations

import numpy as np
import oplab

from toolchain.ir import Op
from toolchain.ops import hybrid
from toolchain.ops.registry import Node
from toolchain.verify.litert import run_litert
from hybrid_cases import F32, assert_bit_exact, model_bytes, one_op


def test_symmetric_quantize_by_hand():
    half_below = np.nextafter(F32(0.5), F32(0))
    row = np.array([127, -3.5, 2.5, half_below, 0, -127, 1.5, -0.5, half_below, 2.5, -2.5], F32)
    q, scale = hybrid.symmetric_quantize(row[None])
    # max |x| = 127 -> scale 1; NEON body (first 8) rounds trunc(y +- 0.5) in float32, so
    # 0.49999997 -> 1 there but 0 in the std::round tail
    np.testing.assert_array_equal(q[0], [127, -4, 3, 1, 0, -127, 2, -1, 0, 3, -3])
    assert scale[0] == F32(1)
    q, scale = hybrid.symmetric_quantize(np.zeros((2, 5), F32))
    assert not q.any() and np.all(scale == 1)


def test_asymmetric_quantize_by_hand():
    row = np.array([[-1.0, 1.55, 0.5, 0.0]], F32)
    q, scale, zp = hybrid.asymmetric_quantize(row)
    assert scale[0] == F32(np.float64(F32(1.55) + F32(1.0)) / 255.0)
    assert zp[0] == -28  # -128 + 1 / 0.01
    np.testing.assert_array_equal(q[0], [-128, 127, 22, -28])
    q, scale, zp = hybrid.asymmetric_quantize(np.array([[0.0, 2.0, 0.5]], F32))
    assert zp[0] == -128 and list(q[0]) == [-128, 127, -64]  # all >= 0: the range starts at 0
    q, scale, zp = hybrid.asymmetric_quantize(np.zeros((1, 4), F32))
    assert not q.any() and scale[0] == 1 and zp[0] == 0


def test_quantized_values_seen_through_identity_fc():
    """An identity int8 FC with scale 1 outputs LiteRT's quantized input itself."""
    half_below = np.nextafter(F32(0.5), F32(0))
    row = np.array([half_below, -half_below, 2.5, -2.5, 1.5, 0.5, -0.5, 127,
                    half_below, -half_below, 2.5, -2.5, 0.5], F32)
    k = row.size
    w = oplab.const("w", np.eye(k, dtype=np.int8), scale=np.ones(1, F32))
    g = one_op("FULLY_CONNECTED", [oplab.act("x", (1, k), "float32"), w, None],
               dict(activation="NONE"), (1, k))
    theirs = run_litert(model_bytes(g), [row[None]])[0]
    q, _ = hybrid.symmetric_quantize(row[None])
    oplab.assert_exact(theirs, q.astype(F32))
    assert_bit_exact(g, row[None])


def test_is_hybrid():
    x = oplab.act("x", (1, 4, 4, 2), "float32")
    xq = oplab.act("xq", (1, 4, 4, 2), "int8", scale=0.1, zp=0)
    w8 = oplab.const("w", np.ones((3, 1, 1, 2), np.int8), scale=np.ones(1, F32))
    wf = oplab.const("w", np.ones((3, 1, 1, 2), F32))
    for ins, want in (((x, w8), True), ((xq, w8), False), ((x, wf), False)):
        node = Node(Op("CONV_2D", ["x", "w"], ["out"]), ins, ())
        assert hybrid.is_hybrid(node) is want
