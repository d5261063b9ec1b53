"""Hostile ONNX models and .npy/.npz files through the real `fitml` CLI: each is refused with
exit code 2 and one line naming the file and the problem (never a traceback, an internal
error, minutes of work or gigabytes of memory), and names from a model cannot drive the
terminal."""
from __future__ import annotations

import resource
import struct
import subprocess
import zipfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from cli_util import FITML, fitml, one_clear_line
from conftest import shared_model

MEMORY_LIMIT = 2 << 30     # address space of the CLI under test: imports fit, a bomb does not


def save_model(path, nodes, inputs, outputs, inits=None, opset=13):
    """An ONNX model file: `inputs`/`outputs` map names to shapes (None: unknown)."""
    graph = helper.make_graph(
        nodes, "hostile",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs.items()],
        [onnx.numpy_helper.from_array(np.asarray(v), n) for n, v in (inits or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path.write_bytes(model.SerializeToString())
    return path


def relu_model(path, shape=(1, 4)):
    return save_model(path, [helper.make_node("Relu", ["x"], ["y"])], {"x": shape},
                      {"y": shape})


def refused(proc, *needles) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    line = one_clear_line(proc)
    assert "internal error" not in line, line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def limited_fitml(*args, timeout: float = 20):
    """`fitml ARGS` under an address-space limit and a time limit."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    return subprocess.run([str(FITML), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit)


# --- folding bombs: sizes are bounded from shapes before anything is evaluated ---------------
def test_resize_bomb_is_refused_fast_and_small(tmp_path):
    """153 bytes asking Resize for 30000 x 30000 elements (108 s and 5 GB before the fix)."""
    path = save_model(tmp_path / "resize_bomb.onnx",
                      [helper.make_node("Resize", ["c", "", "scales"], ["r"], name="boom"),
                       helper.make_node("Add", ["x", "r"], ["y"])],
                      {"x": (1, 1, 1, 1)}, {"y": None},
                      {"c": np.ones((1, 1, 1, 1), np.float32),
                       "scales": np.array([1, 1, 30000, 30000], np.float32)})
    assert path.stat().st_size < 200
    proc = limited_fitml("inspect", path)
    refused(proc, str(path), "'boom'", "Resize", "900,000,000 elements")


@pytest.mark.parametrize("op,attrs", [("AveragePool", dict(kernel_shape=[3, 3])),
                                      ("MaxPool", dict(kernel_shape=[3, 3]))])
def test_slow_op_on_a_large_constant_is_refused_before_running(tmp_path, op, attrs):
    """The reference evaluator pools element by element in Python: minutes on 4M elements."""
    path = save_model(tmp_path / "pool.onnx",
                      [helper.make_node("ConstantOfShape", ["shape"], ["c"]),
                       helper.make_node(op, ["c"], ["p"], name="slow", **attrs),
                       helper.make_node("Add", ["x", "p"], ["y"])],
                      {"x": (1, 1, 2046, 2046)}, {"y": None},
                      {"shape": np.array([1, 1, 2048, 2048], np.int64)})
    refused(limited_fitml("inspect", path), str(path), "'slow'", op, "at most")


@pytest.mark.parametrize("pad,needle", [(1 << 30, "'y' has shape [1, 1073741828]"),
                                        (1 << 40, "beyond int32")])   # it wrapped to 0
def test_huge_pad_of_an_activation_is_refused(tmp_path, pad, needle):
    path = save_model(tmp_path / "pad.onnx", [helper.make_node("Pad", ["x", "pads"], ["y"])],
                      {"x": (1, 4)}, {"y": None}, {"pads": np.array([0, 0, 0, pad], np.int64)})
    refused(limited_fitml("inspect", path), str(path), "Pad", needle)


# --- models that used to "compile" -----------------------------------------------------------
def test_model_without_outputs(tmp_path):
    path = save_model(tmp_path / "no_outputs.onnx", [helper.make_node("Relu", ["x"], ["y"])],
                      {"x": (1, 4)}, {})
    refused(fitml("inspect", path), str(path), "no outputs")


def test_two_nodes_writing_one_tensor(tmp_path):
    path = save_model(tmp_path / "two_writers.onnx",
                      [helper.make_node("Relu", ["x"], ["y"], name="first"),
                       helper.make_node("Sigmoid", ["x"], ["y"], name="second")],
                      {"x": (1, 4)}, {"y": (1, 4)})
    refused(fitml("inspect", path), str(path), "'y'", "'first'", "'second'", "one producer")


@pytest.mark.parametrize("shape,needle", [
    ((0, 4), "at least 1"), ((-3, 4), "at least 1"), ((4, 0, 2), "at least 1"),
    ((1, 1 << 40), "1,099,511,627,776 elements"),
    ((1 << 20,) * 4, "elements, more than"),
])
def test_input_dims_zero_negative_or_huge(tmp_path, shape, needle):
    path = relu_model(tmp_path / "dims.onnx", shape)
    refused(limited_fitml("inspect", path), str(path), "input 'x'", needle)


def test_input_shape_on_tflite_is_a_usage_error():
    path = shared_model("tflm/hello_world_int8.tflite")
    proc = fitml("inspect", path, "--input-shape", "x=1,1")
    refused(proc, str(path), "--input-shape", ".onnx")


# --- .npy / .npz inputs and calibration data -------------------------------------------------
def npy_bytes(header: str, data: bytes = b"") -> bytes:
    """An .npy v1.0 file written by hand, so its header can lie."""
    text = header.encode("latin1")
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


TIB_285 = "{'descr': '<f4', 'fortran_order': False, 'shape': (285, 274877906944), }"
OBJECTS = "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"


def hostile_array(tmp_path, kind: str):
    if kind == "empty":
        (path := tmp_path / "empty.npy").write_bytes(b"")
    elif kind == "285TiB":
        (path := tmp_path / "claims_285_tib.npy").write_bytes(npy_bytes(TIB_285))
    elif kind == "objects":
        (path := tmp_path / "objects.npy").write_bytes(npy_bytes(OBJECTS, b"\x80\x04N."))
    else:   # an .npz whose member is one of the above
        path = tmp_path / f"{kind}.npz"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("x.npy", npy_bytes(TIB_285 if kind == "npz_285TiB" else OBJECTS))
    return path


NEEDLES = {"empty": "empty file", "285TiB": "285.0 TiB", "objects": "dtype object",
           "npz_285TiB": "member 'x.npy'", "npz_objects": "dtype object"}


@pytest.mark.parametrize("kind", list(NEEDLES))
def test_hostile_input_arrays(tmp_path, kind):
    model = relu_model(tmp_path / "relu.onnx")
    path = hostile_array(tmp_path, kind)
    proc = limited_fitml("run", model, "-i", path)
    refused(proc, str(path), "cannot read input array", NEEDLES[kind])


@pytest.mark.parametrize("kind", ["empty", "285TiB", "npz_objects"])
def test_hostile_calibration_arrays(tmp_path, kind):
    model = relu_model(tmp_path / "relu.onnx")
    path = hostile_array(tmp_path, kind)
    proc = limited_fitml("compile", model, "-o", tmp_path / "out", "--calib", path,
                         timeout=60)
    refused(proc, str(path), "cannot read calibration array", NEEDLES[kind])
    assert not (tmp_path / "out").exists()


def test_good_arrays_still_load(tmp_path):
    model = relu_model(tmp_path / "relu.onnx")
    np.save(tmp_path / "x.npy", np.array([[-1, 2, -3, 4]], np.float32))
    proc = fitml("run", model, "-i", tmp_path / "x.npy")
    assert proc.returncode == 0, proc.stderr
    assert "[0., 2., 0., 4.]" in proc.stdout


# --- terminal injection ----------------------------------------------------------------------
CONTROL = ("\x1b", "\x07", "\r", "\x9b", "\u202e")
EVIL_IN = "x\x1b[2J\x1b[H\x07"
EVIL_OUT = "y\rVERDICT: fits \u202eexe.txt\x9b31m"


def test_inspect_escapes_control_characters_in_names(tmp_path):
    path = save_model(tmp_path / "evil.onnx", [helper.make_node("Relu", [EVIL_IN], [EVIL_OUT])],
                      {EVIL_IN: (1, 4)}, {EVIL_OUT: (1, 4)})
    proc = fitml("inspect", path)
    assert proc.returncode == 0, proc.stderr
    for ch in CONTROL:
        assert ch not in proc.stdout, repr(ch)
    assert "x\\x1b[2J\\x1b[H\\x07" in proc.stdout
    assert "y\\x0dVERDICT: fits \\u202eexe.txt\\x9b31m" in proc.stdout
    assert not any(line.startswith("VERDICT") for line in proc.stdout.splitlines())


def test_error_lines_escape_control_characters(tmp_path):
    path = save_model(tmp_path / "evil_op.onnx",
                      [helper.make_node("Foo\x1b[2J", [EVIL_IN], ["y"],
                                        name="n\x1b]0;title\x07\nVERDICT: fits")],
                      {EVIL_IN: (1, 4)}, {"y": (1, 4)})
    proc = fitml("inspect", path)
    line = refused(proc, str(path), "Foo\\x1b[2J", "not supported")
    for ch in CONTROL:
        assert ch not in proc.stderr, repr(ch)
    assert "\nVERDICT" not in proc.stderr and line.startswith("fitml: error:")


# --- the bounds leave ordinary constant subgraphs alone ---------------------------------------
def test_ordinary_constant_subgraphs_still_fold(tmp_path):
    """Shape arithmetic, NonZero (data-dependent size) and an opset-13 DequantizeLinear of a
    constant fold at import; the graph keeps only the ops on the activation."""
    from toolchain.frontends.onnx import load_onnx

    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Gather", ["shape", "one"], ["width"], axis=0),
             helper.make_node("Concat", ["minus_one", "width"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["flat"]),
             helper.make_node("NonZero", ["mask"], ["where"]),
             helper.make_node("Cast", ["where"], ["where_f"], to=TensorProto.FLOAT),
             helper.make_node("ReduceSum", ["where_f"], ["count"], keepdims=0),
             helper.make_node("DequantizeLinear", ["codes", "scale"], ["weights"]),
             helper.make_node("Mul", ["weights", "count"], ["scaled"]),
             helper.make_node("Add", ["flat", "scaled"], ["y"])]
    path = save_model(tmp_path / "folds.onnx", nodes, {"x": (1, 4)}, {"y": (1, 4)},
                      {"one": np.array([1], np.int64), "minus_one": np.array([-1], np.int64),
                       "mask": np.array([1, 0, 2, 3], np.float32),
                       "codes": np.array([[1, -2, 3, -4]], np.int8),
                       "scale": np.float32(0.5)})
    graph = load_onnx(path)
    assert [op.kind for op in graph.ops] == ["ADD"]
    const = next(t for t in graph.tensors.values() if t.is_const)
    # 0.5 * codes * (0 + 2 + 3: the sum of the nonzero indices)
    np.testing.assert_array_equal(const.data.reshape(-1), [2.5, -5, 7.5, -10])
