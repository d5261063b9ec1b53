"""Constants several ops share are emitted once (fitml issue #15).

TensorFlow's converter gives one FC weight tensor to every op that multiplies by it (an
unrolled RNN's hundred FULLY_CONNECTED share three). The C backend names each distinct constant
array once, by content (C type, role, bytes): the graph's shared tensor, and the arrays the
lowering derives from it per op (the DSP kernels' reordered int8 filter, equal requantization
arrays). The fit report and the layout chooser count such an array once, as it is emitted.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from tf_convert import check_model, convert

from toolchain.backends.c import emit_c
from toolchain.frontends.tflite import load_tflite
from toolchain.lowering.cvariant import plain_layouts


@pytest.fixture(scope="module")
def twice() -> bytes:
    """y = relu(x @ W) @ W: two FULLY_CONNECTED on one int8 weight tensor."""
    tf = pytest.importorskip("tensorflow")
    w = tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, 8)).astype(np.float32))
    return convert(lambda x: tf.matmul(tf.nn.relu(tf.matmul(x, w)), w), [(1, 8)], "int8")


def definitions(files: dict[str, str], ctype: str, length: int) -> list[str]:
    """Symbols model_weights.c defines as `const <ctype> <symbol>[<length>]`."""
    return re.findall(rf"const {ctype} (\w+)\[{length}\]", files["model_weights.c"])


def test_the_converter_shares_the_weight_tensor(twice):
    fcs = [op for op in load_tflite(twice).ops if op.kind == "FULLY_CONNECTED"]
    assert len(fcs) == 2 and fcs[0].inputs[1] == fcs[1].inputs[1], fcs


@pytest.mark.parametrize("variant", ["portable", "dsp"])
def test_a_weight_used_twice_is_emitted_once(twice, variant):
    """Portable kernels read the graph tensor; DSP kernels without a pre-widened layout read a
    reordered copy (cdsp.fc_int8_filter), derived per op: one symbol either way, both calls
    pointing to it."""
    graph = load_tflite(twice)
    with plain_layouts([op.outputs[0] for op in graph.ops]):
        files = emit_c(graph, variant=variant)
    symbols = definitions(files, "int8_t", 64)
    print(variant, "int8 filter arrays:", symbols)
    assert len(symbols) == 1, symbols
    uses = re.findall(rf"\b{symbols[0]}\b", files["model.c"])
    assert len(uses) == 2, files["model.c"]


def test_a_weight_used_twice_is_bit_exact(twice):
    for seed in range(3):
        check_model(twice, np.random.default_rng(seed))
    check_model(twice, np.random.default_rng(7), executors=("qemu",), target="cortex-m4")
