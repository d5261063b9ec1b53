"""CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D: their TFLite
builtin options round-trip through the op files (FULLY_CONNECTED's absent options give the
defaults), and their MAC counts."""
from __future__ import annotations

import numpy as np
import pytest

from toolchain.ops import registry
from conv_fc_cases import conv_case, fc_graph


OPTION_CASES = [
    ("DEPTHWISE_CONV_2D", dict(padding="VALID", stride=(2, 1), dilation=(1, 2),
                               depth_multiplier=2, activation="RELU6")),
    ("FULLY_CONNECTED", dict(activation="RELU_N1_TO_1", keep_num_dims=True,
                             asymmetric_quantize_inputs=True)),
    ("AVERAGE_POOL_2D", dict(padding="SAME", stride=(2, 3), filter=(3, 1), activation="RELU")),
    ("MAX_POOL_2D", dict(padding="VALID", stride=(1, 2), filter=(2, 4), activation="NONE")),
    ("CONV_2D", dict(padding="SAME", stride=(1, 2), dilation=(2, 1), activation="TANH")),
]


@pytest.mark.parametrize("kind,attrs", OPTION_CASES, ids=[k for k, _ in OPTION_CASES])
def test_tflite_options_round_trip(kind, attrs):
    opdef = registry.get(kind)
    options = opdef.attrs_to_tflite(attrs)
    assert type(options).__name__ == opdef.tflite_options + "T"
    assert opdef.attrs_from_tflite(options) == attrs


def test_fc_options_absent_gives_defaults():
    attrs = registry.get("FULLY_CONNECTED").attrs_from_tflite(None)
    assert attrs == dict(activation="NONE", keep_num_dims=False,
                         asymmetric_quantize_inputs=False)


def test_macs():
    dw = conv_case("DEPTHWISE_CONV_2D", 1, "int8", (1, "SAME", 1, 2, True, True))
    fc = fc_graph(2, "int8", 4, True, True)                  # x (1,2,3,5), K=15 -> 2 rows
    macs = {op.kind: registry.get(op.kind).macs(registry.Node.of(g, op))
            for g in (dw, fc) for op in g.ops}
    (x, w), out = dw.op_inputs(dw.ops[0])[:2], dw.tensors[dw.outputs[0]]
    assert macs["DEPTHWISE_CONV_2D"] == int(np.prod(out.shape)) * w.shape[1] * w.shape[2]
    assert macs["FULLY_CONNECTED"] == 2 * 15 * fc.tensors[fc.outputs[0]].shape[-1]
