"""A graph chaining every int16 (16x8) C kernel, int8 in and out (QUANTIZE, CONV, DEPTHWISE,
ADD, pools, PAD, SUB, RESHAPE, FULLY_CONNECTED with an int64 bias beyond int32, MEAN), as
generated C equals the numpy reference on the host (ASan/UBSan) and under QEMU on Cortex-M4 (DSP
build: the conv/depthwise/FC s16 kernels link their DSP twins) and Cortex-M0 (no DSP; int64
multiplies go through libgcc); int16 activations take 2 bytes each in the arena."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from toolchain.backends.c import lower
from toolchain.ir import Graph, Op
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph


def chain_graph() -> Graph:
    """int8 in -> QUANTIZE int16 -> CONV -> DEPTHWISE -> ADD (residual) -> MAX_POOL -> PAD ->
    AVERAGE_POOL and MAX_POOL -> SUB -> RESHAPE -> FULLY_CONNECTED (int64 bias beyond int32);
    MEAN; QUANTIZE int16 -> int8 outputs (and the FC's int16 output)."""
    rng = np.random.default_rng(16)
    t, ops = {}, []

    def add(kind, ins, out_shape, attrs=None, scale=1 / 2048, dtype="int16", zp=0):
        name = f"t{len(ops)}"
        t[name] = oplab.act(name, out_shape, dtype, scale=scale, zp=zp)
        ops.append(Op(kind, ins, [name], attrs or {}))
        return name

    def const(name, values, **kw):
        t[name] = oplab.const(name, values, **kw)
        return name

    t["x"] = oplab.act("x", (1, 8, 8, 3), "int8", scale=0.02, zp=-4)
    q = add("QUANTIZE", ["x"], (1, 8, 8, 3), dict(dtype="int16"), scale=1 / 4096)
    s_w = rng.uniform(0.005, 0.02, 6).astype(np.float32)
    w = const("w1", rng.integers(-127, 128, (6, 3, 3, 3)).astype(np.int8), scale=s_w, axis=0)
    b = const("b1", rng.integers(-2**20, 2**20, 6).astype(np.int64),
              scale=np.float32(1 / 4096) * s_w, axis=0)
    geo = dict(padding="SAME", stride=(1, 1), dilation=(1, 1))
    c1 = add("CONV_2D", [q, w, b], (1, 8, 8, 6), dict(geo, activation="RELU"), scale=3e-4)
    dw = const("w2", rng.integers(-127, 128, (1, 3, 3, 6)).astype(np.int8),
               scale=np.float32([0.01]))
    d1 = add("DEPTHWISE_CONV_2D", [c1, dw], (1, 8, 8, 6),
             dict(geo, activation="NONE", depth_multiplier=1), scale=4e-4)
    s1 = add("ADD", [c1, d1], (1, 8, 8, 6), dict(activation="RELU6"), scale=5e-4)
    p1 = add("MAX_POOL_2D", [s1], (1, 4, 4, 6),
             dict(padding="VALID", stride=(2, 2), filter=(2, 2), activation="NONE"), scale=5e-4)
    pads = const("pads", np.array([[0, 0], [1, 0], [0, 1], [0, 0]], np.int32))
    p2 = add("PAD", [p1, pads], (1, 5, 5, 6), scale=5e-4)
    a1 = add("AVERAGE_POOL_2D", [p2], (1, 3, 3, 6),
             dict(padding="SAME", stride=(2, 2), filter=(3, 3), activation="NONE"), scale=5e-4)
    p3 = add("MAX_POOL_2D", [p2], (1, 3, 3, 6),
             dict(padding="SAME", stride=(2, 2), filter=(2, 2), activation="RELU"), scale=5e-4)
    d2 = add("SUB", [a1, p3], (1, 3, 3, 6), dict(activation="NONE"), scale=2e-4)
    r1 = add("RESHAPE", [d2, const("shape", np.array([1, 54], np.int32))], (1, 54),
             scale=2e-4)
    s_f = rng.uniform(0.005, 0.02, 5).astype(np.float32)
    fw = const("w3", rng.integers(-127, 128, (5, 54)).astype(np.int8), scale=s_f, axis=0)
    fb = const("b3", rng.integers(-2**33, 2**33, 5).astype(np.int64),
               scale=np.float32(2e-4) * s_f, axis=0)
    f1 = add("FULLY_CONNECTED", [r1, fw, fb], (1, 5), dict(activation="NONE"), scale=5e-3)
    m1 = add("MEAN", [a1, const("axes", np.array([1, 2], np.int32))], (1, 6),
             dict(keep_dims=False), scale=3e-4)
    o1 = add("QUANTIZE", [f1], (1, 5), dict(dtype="int8"), scale=0.5, dtype="int8", zp=3)
    o2 = add("QUANTIZE", [m1], (1, 6), dict(dtype="int8"), scale=0.004, dtype="int8", zp=-2)
    return Graph.build(t.values(), ops, ["x"], [o1, o2, f1]).validate()


@pytest.fixture(scope="module")
def chain():
    graph = chain_graph()
    rng = np.random.default_rng(17)
    inputs = [[rng.integers(-128, 128, (1, 8, 8, 3)).astype(np.int8)] for _ in range(3)]
    return graph, inputs


def test_chain_lowers_to_every_int16_kernel(chain):
    graph = chain[0]
    low = lower(graph)
    used = {c.kernel for c in low.calls}
    assert {"fitml_conv_s16", "fitml_depthwise_conv_s16", "fitml_fully_connected_s16",
            "fitml_add_s16", "fitml_sub_s16", "fitml_maxpool_s16", "fitml_avgpool_s16",
            "fitml_mean_s16", "fitml_requantize_s8_s16", "fitml_requantize_s16_s8",
            "fitml_pad"} <= used
    for name, offset in low.plan.offsets.items():      # int16 activations take 2 bytes each
        t = low.graph.tensors[name]
        assert offset + t.nbytes <= low.plan.arena_size, name
        if t.dtype == "int16":
            assert t.nbytes == 2 * t.size


@pytest.mark.parametrize("executor,target", [("host", None), ("qemu", "cortex-m4"),
                                             ("qemu", "cortex-m0")])
def test_chain_c_bit_exact(chain, executor, target):
    graph, inputs = chain
    run = get_executor(executor)
    kw = {} if target is None else dict(target=target)
    for i, x in enumerate(inputs):
        want = run_graph(graph, x)
        got = run(graph, x, **kw).outputs
        for k, (a, b) in enumerate(zip(want, got)):
            oplab.assert_exact(a, b, f"{executor} {target} case {i} output {k}")
