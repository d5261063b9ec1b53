"""Bad model files give one clear line and exit code 2: never a traceback, crash or hang."""
from __future__ import annotations

import signal

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from cli_util import fitml, one_clear_line
from conftest import shared_model
from toolchain.backends.tflite import build_model
from toolchain.errors import ModelError
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, Op, Tensor
from toolchain.ops import registry


def _while_model() -> bytes:
    """A float RELU -> WHILE model: written as RELU -> TANH, then the second opcode retyped to
    WHILE (an operator TFLite Micro runs and fitml does not, so the writer cannot emit it)."""
    x = Tensor("x", (1, 4), "float32")
    y, z = Tensor("y", (1, 4), "float32"), Tensor("while_out", (1, 4), "float32")
    graph = Graph.build([x, y, z], [Op("RELU", ["x"], ["y"]), Op("TANH", ["y"], ["while_out"])],
                        ["x"], ["while_out"])
    model = build_model(graph.validate())
    code = next(c for c in model.operatorCodes if c.builtinCode == schema.BuiltinOperator.TANH)
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.WHILE
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def test_unsupported_operator_names_op_node_tensor_file_and_list(tmp_path):
    assert "WHILE" not in registry.supported()
    path = tmp_path / "while.tflite"
    path.write_bytes(_while_model())
    proc = fitml("inspect", path)
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "operator WHILE " in line
    assert "node 1" in line and "output tensor 'while_out'" in line
    assert str(path) in line
    for kind in registry.supported():
        assert kind in line


@pytest.mark.parametrize("content,needle", [
    (b"", "empty file"),
    (b"\x00" * 7, "not a TFLite flatbuffer"),
    (b"PK\x03\x04 this is a zip, not a model " * 4, "not a TFLite flatbuffer"),
])
def test_empty_or_foreign_file(tmp_path, content, needle):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(content)
    proc = fitml("inspect", bad)
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert needle in line and str(bad) in line


def test_truncated_model(tmp_path):
    blob = shared_model("mlperf_tiny/kws/kws_ref_model_int8.tflite").read_bytes()
    bad = tmp_path / "truncated.tflite"
    bad.write_bytes(blob[: len(blob) // 3])
    proc = fitml("inspect", bad)
    assert proc.returncode == 2
    assert str(bad) in one_clear_line(proc)


def test_missing_file_and_unknown_format(tmp_path):
    proc = fitml("inspect", tmp_path / "nope.tflite")
    assert proc.returncode == 2 and "no such file" in one_clear_line(proc)
    other = tmp_path / "model.bin"
    other.write_bytes(b"1234")
    proc = fitml("inspect", other)
    assert proc.returncode == 2 and "unsupported model format" in one_clear_line(proc)


class Hang(Exception):
    pass


def _alarm(*_):
    raise Hang()


def test_300_random_corruptions_give_clean_errors_or_correct_loads():
    """Flip, zero, splice and truncate bytes of a real model: ModelError or a valid Graph."""
    blob = bytearray(shared_model("mlperf_tiny/kws/kws_ref_model_int8.tflite").read_bytes())
    rng = np.random.default_rng(20261128)
    outcomes = {"error": 0, "loaded": 0}
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for case in range(300):
            bad = bytearray(blob)
            how = case % 4
            if how == 0:        # random byte flips in the flatbuffer tables (first 4 KB)
                for pos in rng.integers(0, 4096, rng.integers(1, 8)):
                    bad[pos] ^= int(rng.integers(1, 256))
            elif how == 1:      # random byte flips anywhere
                for pos in rng.integers(0, len(bad), rng.integers(1, 16)):
                    bad[pos] = int(rng.integers(0, 256))
            elif how == 2:      # a zeroed run
                start, n = int(rng.integers(0, len(bad) - 64)), int(rng.integers(1, 64))
                bad[start:start + n] = bytes(n)
            else:               # truncation
                bad = bad[: int(rng.integers(8, len(bad)))]
            signal.alarm(10)
            try:
                graph = load_tflite(bytes(bad))
                graph.validate()
                outcomes["loaded"] += 1
            except ModelError as exc:
                assert str(exc) and "\n" not in str(exc)
                outcomes["error"] += 1
            except Hang:
                pytest.fail(f"corruption case {case} made the reader hang")
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, old)
    assert outcomes["error"] + outcomes["loaded"] == 300
    assert outcomes["error"] > 0
