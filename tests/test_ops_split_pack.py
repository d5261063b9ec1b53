"""SPLIT, SPLIT_V, PACK and UNPACK from TensorFlow's converter (tf.split, tf.stack,
tf.unstack; float32, int8 and 16x8): the reference equals TFLite Micro bit for bit, on the
converter's file and on the one fitml writes back, and the generated C equals it on the host
and under QEMU; malformed operands are refused by name.
"""
from __future__ import annotations

import numpy as np
import pytest

from oplab import act, const
from tf_convert import MODES, check_model, convert, op_kinds, tf
from toolchain.ir import GraphError, Op
from toolchain.ops import registry


def split_model(count, axis):
    return lambda x: tf().split(x, count, axis=axis)


def pack_model(axis):
    return lambda x, y, z: tf().stack([x, y, z], axis=axis)


def unpack_model(axis):
    return lambda x: tf().unstack(x, axis=axis)


# name -> (function, input shapes, the op it must convert to)
CASES = {
    "split_c3_axis2": (split_model(3, 2), [(1, 3, 6, 5)], "SPLIT"),
    "split_c2_axis-1": (split_model(2, -1), [(2, 4, 6)], "SPLIT"),
    "split_c4_axis1": (split_model(4, 1), [(3, 8)], "SPLIT"),
    "split_v_minus1_axis3": (split_model([2, -1, 1], 3), [(1, 3, 4, 7)], "SPLIT_V"),
    "split_v_axis0": (split_model([1, 2], 0), [(3, 5)], "SPLIT_V"),
    "split_v_axis1": (split_model([3, 2], 1), [(2, 5, 3)], "SPLIT_V"),
    "pack_axis0": (pack_model(0), [(3, 4)] * 3, "PACK"),
    "pack_axis2": (pack_model(2), [(1, 5, 3, 2)] * 3, "PACK"),
    "pack_axis-1": (pack_model(-1), [(2, 6)] * 3, "PACK"),
    "unpack_axis1": (unpack_model(1), [(2, 3, 4)], "UNPACK"),
    "unpack_axis-1": (unpack_model(-1), [(1, 4, 3)], "UNPACK"),
    "unpack_axis0": (unpack_model(0), [(4, 2, 2, 3)], "UNPACK"),
}


@pytest.fixture(scope="module")
def models():
    """Each case converted once per mode: {(case, mode): .tflite bytes}."""
    out = {}
    for name, (fn, shapes, _) in CASES.items():
        for mode in MODES:
            out[name, mode] = convert(fn, shapes, mode, seed=len(out))
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", CASES)
def test_reference_and_host_c_equal_tflm(models, name, mode):
    kind = CASES[name][2]
    model = models[name, mode]
    assert kind in op_kinds(model), op_kinds(model)
    for seed in range(2):
        check_model(model, np.random.default_rng(seed))


@pytest.mark.parametrize("name", ["split_c3_axis2", "split_v_minus1_axis3", "pack_axis2",
                                  "unpack_axis1"])
def test_qemu_equals_tflm(models, name):
    check_model(models[name, "int8"], np.random.default_rng(7), executors=("qemu",))
    check_model(models[name, "float32"], np.random.default_rng(8), executors=("qemu",),
                target="cortex-m0")


def _infer(kind, ins, attrs):
    """The op's shape rule on tensors; lists become constant int32 operands."""
    tensors = [const(f"c{i}", np.asarray(t, np.int32)) if isinstance(t, list) else t
               for i, t in enumerate(ins)]
    return registry.get(kind).infer(Op(kind, [t.name for t in tensors], [], attrs), tensors)


@pytest.mark.parametrize("kind, ins, attrs, needle", [
    ("SPLIT", [1, "x"], dict(num_splits=4), "num_splits 4 does not divide axis 1 of size 6"),
    ("SPLIT", [[0, 1], "x"], dict(num_splits=2), "axis .* must hold one value"),
    ("SPLIT", [5, "x"], dict(num_splits=2), "axis 5 out of range"),
    ("SPLIT_V", ["x", [2, -1, -1], 1], {}, "at most one -1"),
    ("SPLIT_V", ["x", [2, 5], 1], {}, "do not add up to axis 1 of size 6"),
    ("SPLIT_V", ["x", [9, -1], 1], {}, "exceed axis 1"),
    ("SPLIT_V", ["x", [6, -1], 1], {}, "empty part"),
    ("PACK", ["x", "y"], dict(axis=0), "input 'y' is float32"),
    ("PACK", ["x", "x"], dict(axis=4), "axis 4 out of range"),
    ("UNPACK", ["x"], dict(axis=1, num=3), "num 3 but axis 1 has size 6"),
])
def test_malformed_operands_are_refused(kind, ins, attrs, needle):
    named = {"x": act("x", (2, 6, 3), "int8"), "y": act("y", (2, 6, 4), "float32")}
    ins = [named[t] if isinstance(t, str) else [t] if isinstance(t, int) else t for t in ins]
    with pytest.raises(GraphError, match=needle):
        _infer(kind, ins, attrs)


def test_uint8_pack_is_refused_as_tflm_does():
    x = act("x", (2, 3), "uint8")
    with pytest.raises(GraphError, match=r"PACK: uint8 .*TFLite Micro takes"):
        _infer("PACK", [x, x], dict(axis=0))
