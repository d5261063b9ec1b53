"""Malformed model structure the fuzzer found (issue #13), through the real `fitml` CLI: a
.tflite output that is a constant, listed twice, or options of another operator; ONNX graph
outputs nothing produces, negative initializer dims, flags and windows out of range, extra
node inputs. Each must end in exit 2 and one stderr line naming the file and the problem,
never an internal error. Every hostile model is generated here from a valid one."""
from __future__ import annotations

import onnx
import pytest
from ai_edge_litert import schema_py_generated as schema
from onnx import helper

from cli_util import fitml
from fuzz_seeds import make_onnx
from test_hostile_numbers import MNIST_INT8, edited_tflite, op_of, refused


# ------------------------------------------------------------------ .tflite

def _constant_index(model) -> int:
    sub = model.subgraphs[0]
    return next(i for i, t in enumerate(sub.tensors)
                if model.buffers[t.buffer].data is not None and len(model.buffers[t.buffer].data))


def _constant_output(model):
    model.subgraphs[0].outputs = [_constant_index(model)]


def test_constant_graph_output_is_refused_not_an_internal_error(tmp_path):
    bad = edited_tflite(MNIST_INT8, tmp_path / "const_out.tflite", _constant_output)
    for verb in (("inspect",), ("check", "--target", "cortex-m4", "--no-measure")):
        refused(fitml(*verb, bad), str(bad), "graph output", "is a constant")


@pytest.mark.parametrize("io", ["inputs", "outputs"])
def test_tensor_listed_twice_among_graph_io_is_refused(tmp_path, io):
    def edit(model):
        sub = model.subgraphs[0]
        setattr(sub, io, list(getattr(sub, io)) * 2)
    bad = edited_tflite(MNIST_INT8, tmp_path / f"twice_{io}.tflite", edit)
    refused(fitml("inspect", bad), str(bad), "listed twice", f"graph {io}")


def test_options_of_another_operator_are_refused(tmp_path):
    def edit(model):
        op_of(model, "CONV_2D").builtinOptionsType = schema.BuiltinOptions.FullyConnectedOptions
    bad = edited_tflite(MNIST_INT8, tmp_path / "options.tflite", edit)
    refused(fitml("inspect", bad), str(bad), "CONV_2D", "FullyConnectedOptions",
            "Conv2DOptions")


# ------------------------------------------------------------------ .onnx

@pytest.fixture(scope="module")
def seed_onnx(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "seed.onnx"
    make_onnx(path)   # x -> Conv "conv" -> Relu "relu" -> Flatten -> Gemm "fc" -> y
    return path


def _node(model, name: str):
    return next(n for n in model.graph.node if n.name == name)


def _set_attr(model, node: str, key: str, value) -> None:
    n = _node(model, node)
    for a in list(n.attribute):
        if a.name == key:
            n.attribute.remove(a)
    n.attribute.append(helper.make_attribute(key, value))


def _dims(model, name: str, dims) -> None:
    init = next(i for i in model.graph.initializer if i.name == name)
    del init.dims[:]
    init.dims.extend(dims)


def _output_named(model, name: str) -> None:
    model.graph.output[0].name = name


ONNX_CASES = {
    "output_missing": (lambda m: _output_named(m, "no_such_tensor"),
                       ("graph output 'no_such_tensor'", "not produced")),
    "no_nodes": (lambda m: m.graph.ClearField("node"), ("graph output 'y'", "not produced")),
    "dims_minus_one": (lambda m: _dims(m, "conv_w", [4, 2, 3, -1]),
                       ("initializer 'conv_w'", "negative dimension")),
    "dims_minus_five": (lambda m: _dims(m, "fc_b", [-5]),
                        ("initializer 'fc_b'", "negative dimension")),
    "transB_negative": (lambda m: _set_attr(m, "fc", "transB", -3),
                        ("node 'fc'", "transB=-3", "0 or 1")),
    "transB_huge": (lambda m: _set_attr(m, "fc", "transB", 2**62), ("node 'fc'", "0 or 1")),
    "kernel_huge": (lambda m: _set_attr(m, "conv", "kernel_shape", [2**31 - 1] * 2),
                    ("node 'conv'", "kernel_shape", "weights")),
    "window_zero": (lambda m: _set_attr(m, "conv", "strides", [0, 2]),
                    ("node 'conv'", "strides")),
    "duplicated_input": (lambda m: _node(m, "relu").input.append("c"),
                         ("node 'relu'", "2 inputs", "takes 1")),
    "extra_input": (lambda m: _node(m, "conv").input.append("fc_b"),
                    ("node 'conv'", "4 inputs", "2 to 3")),
    "attribute_type": (lambda m: _set_attr(m, "fc", "transB", "1"),
                       ("node 'fc'", "transB", "STRING")),
}


@pytest.mark.parametrize("case", sorted(ONNX_CASES))
def test_malformed_onnx_is_refused_naming_file_and_node(tmp_path, seed_onnx, case):
    edit, needles = ONNX_CASES[case]
    model = onnx.load(str(seed_onnx))
    edit(model)
    bad = tmp_path / f"{case}.onnx"
    onnx.save(model, str(bad))
    refused(fitml("inspect", bad), str(bad), *needles)


def test_seed_onnx_itself_loads(seed_onnx):
    proc = fitml("inspect", seed_onnx)
    assert proc.returncode == 0, proc.stderr
