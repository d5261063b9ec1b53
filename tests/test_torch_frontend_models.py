"""PyTorch frontend: modules built here, exported with torch.export, converted to NHWC float
graphs; the numpy reference and LiteRT (on the written .tflite) match torch within 1e-4 on two
seeded inputs; BatchNorm folds into convs and linears, activations fuse, depthwise weights and
explicit padding, an NCHW flatten gets its transpose, HARD_SWISH and LEAKY_RELU become ops."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = nn.functional

import toolchain  # noqa: E402
from toolchain.backends.tflite import write_tflite  # noqa: E402
from toolchain.verify.litert import run_litert  # noqa: E402
from toolchain.ops.interpreter import run_graph  # noqa: E402
from torch_modules import (MODELS, as_tuple, assert_close, build, kinds, nhwc,  # noqa: E402
                           torch_outputs)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reference_and_litert_match_torch(name):
    module, x = build(name)
    graph = toolchain.load(module, as_tuple(x))
    assert graph.metadata["frontend"] == "torch.export"
    assert all(t.dtype == "float32" for t in graph.tensors.values() if not t.is_const)
    want = torch_outputs(module, x)
    feeds = [nhwc(a) for a in as_tuple(x)]
    assert_close(run_graph(graph, feeds), want, f"{name} reference")
    assert_close(run_litert(write_tflite(graph), feeds), want, f"{name} LiteRT")
    # second seeded inputs through the same graph
    gen = torch.Generator().manual_seed(99)
    x2 = tuple(torch.randn(*a.shape, generator=gen) for a in as_tuple(x))
    assert_close(run_graph(graph, [nhwc(a) for a in x2]), torch_outputs(module, x2),
                 f"{name} input 2")


def test_batch_norm_folded_into_conv_and_linear_and_activation_fused():
    module, x = build("cnn_bn")
    graph = toolchain.load(module, (x,))
    # b1, b2 fold into their convs, b4 into the linear; b3 (after sigmoid) is MUL + ADD
    assert kinds(graph) == ["CONV_2D", "CONV_2D", "LOGISTIC", "MUL", "ADD", "MEAN",
                            "FULLY_CONNECTED"]
    first = graph.ops[0]
    assert first.attrs["activation"] == "RELU" and first.attrs["padding"] == "SAME"
    assert graph.ops[1].inputs[2], "bias-free conv gets the folded BN shift as its bias"
    assert graph.tensors[graph.inputs[0]].shape == (1, 12, 12, 3)   # NHWC input


def test_depthwise_weights_layout_and_explicit_padding():
    module, x = build("depthwise_separable")
    graph = toolchain.load(module, (x,))
    assert kinds(graph) == ["DEPTHWISE_CONV_2D", "CONV_2D", "DEPTHWISE_CONV_2D"]
    dw = graph.ops[0]       # torch's padding 1 at stride 2 is not SAME's: its PAD folds
    assert dw.attrs["depth_multiplier"] == 2 and dw.attrs["padding"] == "EXPLICIT"
    assert dw.attrs["explicit_padding"] == ((1, 0), (1, 1))
    assert dw.attrs["activation"] == "RELU6"
    assert graph.tensors[dw.inputs[1]].shape == (1, 3, 3, 8)
    last = graph.ops[2]
    assert last.attrs["padding"] == "SAME" and last.attrs["dilation"] == (2, 2)
    assert last.attrs["activation"] == "RELU_N1_TO_1"


def test_flatten_inserts_nchw_transpose():
    module, x = build("flatten_head")
    graph = toolchain.load(module, (x,))
    assert kinds(graph)[:3] == ["CONV_2D", "TRANSPOSE", "RESHAPE"]
    perm = graph.ops[1].inputs[1]
    assert graph.tensors[perm].data.tolist() == [0, 3, 1, 2]


def test_residual_relu_fuses_into_add():
    module, x = build("residual")
    graph = toolchain.load(module, (x,))
    adds = [op for op in graph.ops if op.kind == "ADD"]
    assert [op.attrs["activation"] for op in adds][:2] == ["RELU", "RELU"]
    assert "RELU" not in kinds(graph)


def test_hardswish_and_leaky_relu_become_ops():
    module, x = build("activations")
    graph = toolchain.load(module, (x,))
    assert kinds(graph) == ["CONV_2D", "HARD_SWISH", "LEAKY_RELU", "LOGISTIC", "MUL", "MUL",
                            "SUB"]
    assert graph.ops[2].attrs["alpha"] == pytest.approx(0.1)
