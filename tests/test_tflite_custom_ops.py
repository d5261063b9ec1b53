"""A .tflite with a TFLite custom operator (TFLite Micro's signal library, an Ethos-U command
stream, any other) gets one clear line naming the operator, what it is when its family is
known, and the builtin operators fitml supports (issue 15)."""
from __future__ import annotations

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import oplab
from cli_util import fitml, one_clear_line
from toolchain.backends.tflite import write_tflite


def with_custom_op(custom_code: bytes) -> bytes:
    """A one-RELU model whose operator is rewritten to the custom operator `custom_code`."""
    x = oplab.act("x", (1, 16), "float32")
    graph = oplab.one_op("RELU", [x], {}, oplab.out_like("RELU", [x], {}))
    model = schema.ModelT.InitFromPackedBuf(write_tflite(graph), 0)
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    code.customCode = custom_code
    code.version = 1
    model.operatorCodes.append(code)
    op = model.subgraphs[0].operators[0]
    op.opcodeIndex = len(model.operatorCodes) - 1
    op.customOptions = np.frombuffer(b"\x01\x02\x03\x04", np.uint8)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


CASES = {
    "SignalWindow": ["'SignalWindow'", "signal library", "audio front end"],
    "SignalFftAutoScale": ["'SignalFftAutoScale'", "signal library"],
    "ethos-u": ["'ethos-u'", "Ethos-U NPU command stream", "before Vela"],
    "FlexAddV2": ["'FlexAddV2'", "Select TF ops"],
    "MyVendorOp": ["'MyVendorOp'"],
    "Evil\x1b[2J": ["'Evil\\x1b[2J'"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_custom_op_is_one_clear_line(name, tmp_path):
    path = tmp_path / "custom.tflite"
    path.write_bytes(with_custom_op(name.encode()))
    proc = fitml("inspect", path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = one_clear_line(proc)
    assert "\x1b" not in line
    for part in (str(path), "operator 0", "custom operator", *CASES[name],
                 "fitml runs TFLite builtin operators only", "CONV_2D", "FULLY_CONNECTED"):
        assert part in line, (part, line)
