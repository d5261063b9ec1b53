"""L2_POOL_2D (float32; TFLM has no quantized kernel): TF's converter never emits it (it keeps
SQUARE -> AVERAGE_POOL_2D -> SQRT), so one-op models over several shapes, windows, strides,
paddings and fused activations run in the reference, TFLite Micro, generated C on the host
and under QEMU, bit for bit, and the written file runs in LiteRT's default resolver."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import Graph, GraphError, Op
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

# (input NHWC, filter, stride, padding, activation)
CASES = [((1, 8, 8, 4), (2, 2), (2, 2), "VALID", "NONE"),
         ((2, 7, 5, 3), (3, 3), (1, 1), "SAME", "RELU6"),
         ((1, 9, 6, 5), (3, 2), (2, 3), "SAME", "RELU_N1_TO_1"),
         ((1, 4, 4, 16), (4, 4), (1, 1), "VALID", "RELU")]


def graph(k, shape, filt, stride, padding, act) -> tuple[list, Op]:
    """Case k's tensors and L2_POOL_2D op (names x<k>, y<k>)."""
    from toolchain.ops.windows import output_hw

    oh, ow = output_hw("L2_POOL_2D", shape[1:3], filt, stride, (1, 1), padding)
    x = oplab.act(f"x{k}", shape, "float32")
    y = oplab.act(f"y{k}", (shape[0], oh, ow, shape[3]), "float32")
    attrs = dict(filter=filt, stride=stride, padding=padding, activation=act)
    return [x, y], Op("L2_POOL_2D", [x.name], [y.name], attrs)


@pytest.fixture(scope="module")
def cases():
    """One graph of every case (one C build per executor), its inputs (magnitudes from 1e-20
    to 1e18, signs mixed) and the reference outputs."""
    rng = np.random.default_rng(21)
    parts = [graph(k, *case) for k, case in enumerate(CASES)]
    g = Graph.build([t for ts, _ in parts for t in ts], [op for _, op in parts],
                    [f"x{k}" for k in range(len(CASES))],
                    [f"y{k}" for k in range(len(CASES))]).validate()
    x = [(rng.standard_normal(c[0]) * 10 ** rng.uniform(-20, 18, c[0])).astype(np.float32)
         for c in CASES]
    return g, x, run_graph(g, x)


def bits(a) -> np.ndarray:
    return np.asarray(a, np.float32).view(np.int32)


def test_reference_equals_tflm(cases):
    from toolchain.verify.tflm import run_tflm

    g, x, want = cases
    got = run_tflm(write_tflite(g), x)
    for k, w in enumerate(want):
        oplab.assert_exact(bits(w), bits(np.asarray(got[k]).reshape(w.shape)),
                           f"case {CASES[k]} tflm")


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(cases, executor, target):
    g, x, want = cases
    kw = {} if target is None else dict(target=target)
    got = get_executor(executor)(g, x, **kw).outputs
    for k, w in enumerate(want):
        oplab.assert_exact(bits(w), bits(np.asarray(got[k]).reshape(w.shape)),
                           f"case {CASES[k]} {executor} {target}")


def test_written_file_runs_in_litert_default_resolver(cases, pool):
    from toolchain.verify.litert import run_litert_default

    g, x, want = cases
    got = pool.submit(run_litert_default, write_tflite(g), x).result()
    for k, w in enumerate(want):
        a = np.asarray(got[k]).reshape(w.shape)
        rel = np.abs(a - w) / np.maximum(np.abs(w), np.float32(1e-30))
        assert np.all(rel <= 1e-6), f"case {CASES[k]} litert: max rel {rel.max()}"


def test_quantized_input_is_refused():
    with pytest.raises(GraphError, match="float32 only"):
        oplab.one_op("L2_POOL_2D", [oplab.act("x", (1, 4, 4, 2), "int8")],
                     dict(filter=(2, 2), stride=(2, 2), padding="VALID"),
                     oplab.act("y", (1, 2, 2, 2), "int8"))
