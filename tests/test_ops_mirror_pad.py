"""MIRROR_PAD: converter models (tf.pad REFLECT and SYMMETRIC on rank 2 to 4, paddings up to
the largest each mode allows; float32 and int8) run the same in the reference, TFLite Micro,
generated C on the host and under QEMU; the written file runs in LiteRT's default resolver;
ONNX Pad mode=reflect and torch's F.pad(mode="reflect") become MIRROR_PAD and equal their
runtimes; paddings beyond the input fail with one clean line."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph
from toolchain.ops.mirror_pad import mirror_pad

SHAPES = [(1, 4, 5, 3), (3, 6), (2, 3, 4)]


def mirror_pads(a, b, c):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.pad(a, [[0, 0], [3, 1], [2, 4], [0, 0]], mode="REFLECT"),
            tf.pad(a, [[0, 0], [4, 0], [1, 5], [0, 0]], mode="SYMMETRIC") * 2.0,
            tf.pad(b, [[2, 1], [5, 5]], mode="REFLECT"),
            tf.pad(c + 1.0, [[1, 2], [3, 0], [0, 4]], mode="SYMMETRIC")]


@pytest.fixture(scope="module", params=["float32", "int8"])
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(mirror_pads), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_mirror_pad(model):
    assert "MIRROR_PAD" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def test_written_file_runs_in_litert_default_resolver(model, pool):
    for k, want, got in co.litert_default_outputs(model, pool):
        co.assert_same(want, got, f"litert default output {k}", 0)


@pytest.mark.parametrize("mode, numpy_mode", [("REFLECT", "reflect"),
                                              ("SYMMETRIC", "symmetric")])
def test_reference_is_numpys_mirror(mode, numpy_mode):
    x = np.arange(24, dtype=np.int8).reshape(2, 3, 4)
    pads = np.array([[1, 1], [2, 0], [0, 3]])
    want = np.pad(x, pads, mode=numpy_mode)
    oplab.assert_exact(want, mirror_pad(x, pads, 1 if mode == "REFLECT" else 0), mode)


def one_mirror_pad(shape, pads, mode: str):
    x = oplab.act("x", shape, "float32")
    ins = [x, oplab.const("paddings", np.array(pads, np.int32))]
    return oplab.one_op("MIRROR_PAD", ins, dict(mode=mode),
                        oplab.out_like("MIRROR_PAD", ins, dict(mode=mode)))


@pytest.mark.parametrize("shape, pads, mode", [((3, 4), [[0, 0], [0, 4]], "REFLECT"),
                                               ((3, 4), [[4, 0], [0, 0]], "SYMMETRIC"),
                                               ((3, 4), [[0, -1], [0, 0]], "REFLECT")])
def test_paddings_beyond_the_input_are_refused(shape, pads, mode):
    with pytest.raises(GraphError, match="MIRROR_PAD: "):
        one_mirror_pad(shape, pads, mode)


def test_onnx_pad_reflect_equals_onnxruntime_and_litert():
    pytest.importorskip("onnxruntime")
    from onnx import helper
    from onnx_cases import check_model, kinds, make

    pads = np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64)
    model = make([helper.make_node("Pad", ["x", "pads"], ["y"], mode="reflect")],
                 {"x": (1, 2, 4, 5)}, ["y"], dict(pads=pads))
    x = np.random.default_rng(3).standard_normal((1, 2, 4, 5)).astype(np.float32)
    assert "MIRROR_PAD" in kinds(check_model(model, [x]))


def test_torch_reflection_pad_equals_torch():
    torch = pytest.importorskip("torch")
    from toolchain.frontends.torch_export import load_torch

    class Reflect(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.pad(x, (1, 3, 2, 0), mode="reflect") * 2.0

    from torch_modules import nhwc, torch_outputs

    x = torch.randn(1, 3, 5, 6, generator=torch.Generator().manual_seed(4))
    g = load_torch(Reflect(), (x,))
    assert "MIRROR_PAD" in {op.kind for op in g.ops}
    want = torch_outputs(Reflect(), x)[0]
    got = np.asarray(run_graph(g, [nhwc(x)])[0])
    oplab.assert_exact(want, got.reshape(want.shape), "torch reflect")
