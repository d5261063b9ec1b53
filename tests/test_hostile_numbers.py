"""Hostile numbers and strings through the real `fitml` CLI: target files that would run
commands or reach gcc/QEMU/C unchecked, calibration data that is not finite or not castable,
quantization parameters outside their dtype, malformed operator arities, sizes and grids beyond
reason. Each is refused with exit 2 and one clear stderr line (or, for a measuring build that
fails, reported with its reason). Every hostile input is generated here."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from cli_util import fitml, one_clear_line, write_board
from conftest import REPO, shared_model
from toolchain import targets
from toolchain.frontends.tflite import BUILTIN_NAMES

MNIST_INT8 = REPO / "examples" / "mnist_cnn_int8.tflite"
MNIST_FLOAT = REPO / "examples" / "mnist_cnn.onnx"
LSTM_INT8 = "tflm/mnist_lstm_int8.tflite"
needs_arm = pytest.mark.skipif(not shutil.which("arm-none-eabi-gcc"),
                               reason="Cortex-M toolchain missing: run ./setup.sh")


# ------------------------------------------------------------------ generated fixtures

def board_with(tmp_path: Path, name: str = "hostile", **lines: str) -> Path:
    """A valid test board whose text gets extra top-level `key = value` lines (TOML source)."""
    path = write_board(tmp_path / f"{name}.toml", name, {"sram": (0x20000000, "256K")})
    extra = "".join(f"{k} = {v}\n" for k, v in lines.items())
    path.write_text(extra + path.read_text())
    return path


def edited_tflite(src: Path, dst: Path, edit) -> Path:
    """`src` unpacked with the schema's object API, changed by edit(model), packed to `dst`."""
    model = schema.ModelT.InitFromPackedBuf(Path(src).read_bytes(), 0)
    edit(model)
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    dst.write_bytes(bytes(builder.Output()))
    return dst


def op_of(model, kind: str):
    """The first operator of the main subgraph whose builtin is `kind`."""
    sub = model.subgraphs[0]
    return next(o for o in sub.operators
                if BUILTIN_NAMES[max(model.operatorCodes[o.opcodeIndex].builtinCode,
                                     model.operatorCodes[o.opcodeIndex].deprecatedBuiltinCode)]
                == kind)


def first_activation(model):
    """The int8 tensor the first operator writes (quantized per tensor)."""
    sub = model.subgraphs[0]
    return sub.tensors[sub.operators[0].outputs[0]]


def refused(proc, *needles: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = one_clear_line(proc)
    assert "internal error" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


# ------------------------------------------------------------------ target files

def test_wrapper_cflag_is_refused_before_anything_runs(tmp_path):
    marker = tmp_path / "MARKER"
    board = board_with(tmp_path, cflags=json.dumps(
        ["-mcpu=cortex-m4", "-mthumb", "-wrapper", f"sh,-c,touch {marker}"]))
    proc = fitml("check", MNIST_INT8, "--target", board)
    refused(proc, str(board), "'-wrapper'", "-mcpu=", "-DNAME")
    assert not marker.exists()


@pytest.mark.parametrize("flag", ["-fplugin=./evil.so", "-specs=evil.specs", "-B/tmp",
                                  "-mcpu=cortex-m4;touch", "-DX=$(id)", "-O9",
                                  "-mfloat-abi=evil", "--sysroot=/", "@flags.txt"])
def test_other_unsafe_cflags_are_refused(tmp_path, flag):
    board = board_with(tmp_path, cflags=json.dumps(["-mcpu=cortex-m4", "-mthumb", flag]))
    refused(fitml("check", MNIST_INT8, "--target", board, "--no-measure"),
            str(board), repr(flag))


@pytest.mark.parametrize("flags", [["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=softfp",
                                    "-mfpu=fpv4-sp-d16", "-DBOARD_REV=2", "-O2",
                                    "-mno-unaligned-access", "-march=armv7e-m+fp"]])
def test_core_flags_are_allowed(tmp_path, flags):
    board = board_with(tmp_path, cflags=json.dumps(flags))
    assert targets.load_target(board).cflags == tuple(flags)


@pytest.mark.parametrize("key,value,field", [
    ("name", '"x */ int evil; /*"', "'name'"),
    ("[qemu]\nmachine", '"mps2-an386,dumpdtb=/tmp/x"', "'qemu.machine'"),
    ("[qemu]\ncpu", '"cortex-m4 -plugin x"', "'qemu.cpu'"),
    ("features", '["dsp", "fpu; rm"]', "'features'")])
def test_strings_reaching_qemu_or_c_files_are_plain_words(tmp_path, key, value, field):
    board = board_with(tmp_path)
    text = board.read_text()
    if key.startswith("[qemu]"):        # a table goes after the top-level keys
        board.write_text(text.replace("[[regions]]", f"{key} = {value}\n\n[[regions]]", 1))
    else:
        board.write_text(f"{key} = {value}\n" + text.replace('name = "hostile"\n', ""))
    refused(fitml("check", MNIST_INT8, "--target", board, "--no-measure"), str(board), field)


def test_non_utf8_target_file(tmp_path):
    board = tmp_path / "latin1.toml"
    board.write_bytes('description = "caf\u00e9"\n'.encode("latin-1"))
    refused(fitml("check", MNIST_INT8, "--target", board), str(board), "UTF-8")


def test_every_shipped_target_still_loads():
    for name in targets.known_targets():
        assert targets.load_target(name).name == name


# ------------------------------------------------------------------ sizes and grids

@pytest.mark.parametrize("value,needle", [("10000000000000000000000", "4 GiB"),
                                          ("4097M", "4 GiB"), ("0x", "not a size"),
                                          ("0x-5", "not a size")])
def test_sizes_beyond_32_bits_or_malformed(value, needle):
    proc = fitml("check", MNIST_INT8, "--target", "cortex-m4", "--no-measure",
                 f"--ram={value}")
    refused(proc, "--ram", needle)


def test_region_beyond_4gib_in_a_board_file(tmp_path):
    board = board_with(tmp_path, stack_size='"8G"')
    refused(fitml("check", MNIST_INT8, "--target", board, "--no-measure"),
            "'stack_size'", "4 GiB")


def test_partition_grid_finer_than_any_layer():
    proc = fitml("check", MNIST_INT8, "--target", "cortex-m4", "--no-measure",
                 "--partition", "99999x99999")
    refused(proc, "--partition 99999x99999", "14x14")


# ------------------------------------------------------------------ calibration data

@pytest.mark.parametrize("poison", [np.nan, np.inf])
def test_non_finite_calibration_is_refused(tmp_path, poison):
    data = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    data[1, :3, 0, 0] = poison
    calib = tmp_path / "calib.npy"
    np.save(calib, data)
    proc = fitml("compile", MNIST_FLOAT, "--calib", calib, "-o", tmp_path / "out")
    refused(proc, str(calib), "3 of 3136 values are NaN or infinite")


@pytest.mark.parametrize("array,needle", [
    (np.ones((4, 28, 28, 1), bool), "got dtype bool"),
    (np.full((4, 28, 28, 1), 2**40, np.int64), "2^24")])
def test_lossy_calibration_dtypes_are_refused(tmp_path, array, needle):
    calib = tmp_path / "calib.npy"
    np.save(calib, array)
    proc = fitml("compile", MNIST_FLOAT, "--calib", calib, "-o", tmp_path / "out")
    refused(proc, str(calib), needle)


def test_exact_integer_calibration_is_cast_and_said(capsys):
    from toolchain import api
    from toolchain.quant.calibration import iter_samples
    graph = api.load(MNIST_FLOAT)
    pixels = np.random.default_rng(1).integers(0, 256, (2, 28, 28, 1)).astype(np.uint8)
    samples = list(iter_samples(pixels, graph))
    assert samples[0][0].dtype == np.float32
    assert np.array_equal(samples[1][0][0], pixels[1].astype(np.float32))
    assert "uint8 data cast to float32" in capsys.readouterr().err


# ------------------------------------------------------------------ .tflite numbers

@pytest.mark.parametrize("zero_point", [-300, -2**40])
def test_zero_point_outside_int8_is_refused(tmp_path, zero_point):
    def edit(model):
        first_activation(model).quantization.zeroPoint = [zero_point]
    bad = edited_tflite(MNIST_INT8, tmp_path / "zp.tflite", edit)
    err = refused(fitml("check", bad, "--target", "cortex-m4", "--no-measure"),
                  str(bad), f"zero point {zero_point}", "int8 [-128, 127]")
    assert "tensor" in err


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
def test_scale_not_finite_and_positive_is_refused(tmp_path, scale):
    def edit(model):
        first_activation(model).quantization.scale = [scale]
    bad = edited_tflite(MNIST_INT8, tmp_path / "scale.tflite", edit)
    refused(fitml("inspect", bad), str(bad), "scale", "finite and > 0")


def test_fully_connected_with_nine_inputs_is_refused(tmp_path):
    def edit(model):
        fc = op_of(model, "FULLY_CONNECTED")
        fc.inputs = list(fc.inputs) + [fc.inputs[1]] * 6
    bad = edited_tflite(MNIST_INT8, tmp_path / "fc9.tflite", edit)
    refused(fitml("check", bad, "--target", "cortex-m4", "--no-measure"),
            str(bad), "FULLY_CONNECTED", "9 inputs", "2 to 3")


def test_lstm_weight_zero_point_is_a_model_error(tmp_path):
    def edit(model):
        lstm = op_of(model, "UNIDIRECTIONAL_SEQUENCE_LSTM")
        model.subgraphs[0].tensors[lstm.inputs[2]].quantization.zeroPoint = [3]
    bad = edited_tflite(shared_model(LSTM_INT8), tmp_path / "lstm_zp.tflite", edit)
    refused(fitml("check", bad, "--target", "cortex-m4", "--no-measure"),
            str(bad), "UNIDIRECTIONAL_SEQUENCE_LSTM", "weight zero points must be 0")


# ------------------------------------------------------------------ run inputs

def test_run_input_outside_int8_is_refused(tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.full((1, 28, 28, 1), 300, np.int64))
    refused(fitml("run", MNIST_INT8, "-i", x), "expects int8 values in [-128, 127]",
            "[300, 300]")
    np.save(x, np.full((1, 28, 28, 1), 3, np.int64))      # in range: cast exactly, runs
    assert fitml("run", MNIST_INT8, "-i", x).returncode == 0


# ------------------------------------------------------------------ unmeasured verdicts

@needs_arm
def test_failed_measuring_build_says_why(tmp_path):
    board = board_with(tmp_path, cflags=json.dumps(["-mcpu=cortex-m99", "-mthumb"]))
    proc = fitml("check", MNIST_INT8, "--target", board, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["code_bytes"] is None and report["measured"]["code"] is False
    assert "cortex-m99" in report["measured"]["note"], report["measured"]
    assert "not measured: build failed" in report["verdict"], report["verdict"]
    assert "cortex-m99" in report["verdict"]
