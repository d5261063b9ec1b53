"""FULLY_CONNECTED: seeded one-op graphs (batches, K not the last input dim, keep_num_dims, odd
sizes, per-channel and per-tensor, with and without bias, int4 filters); the int8 reference
equals TFLite Micro exactly, float matches TFLM and LiteRT; the per-tensor multiplier is formed
in float32 as TFLM does; shuffled weights and a wrong bias scale are refused."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import oplab
from toolchain.ir import GraphError
from toolchain.ops import registry
from conv_fc_cases import FC_SHAPES, fc_graph, run_case, seeded


INT8_FC = list(itertools.product(range(len(FC_SHAPES)), (True, False), (True, False)))
INT8_FC += [(i, pc, b) for i, pc, b in INT8_FC if i % 2][:16]       # other activations
FLOAT_FC = list(itertools.product(range(len(FC_SHAPES)), (True, False)))


@pytest.mark.parametrize("index,case", list(enumerate(INT8_FC)),
                         ids=[f"{i}-x{FC_SHAPES[s][0]}-{'pc' if pc else 'pt'}-"
                              f"{'bias' if b else 'nobias'}" for i, (s, pc, b) in
                              enumerate(INT8_FC)])
def test_fc_int8_tflm_exact(index, case):
    run_case(fc_graph(index, "int8", *case), seeded("FULLY_CONNECTED", index, "int8"), "int8")


@pytest.mark.parametrize("index,case", list(enumerate(FLOAT_FC)))
def test_fc_float_tflm_litert(index, case):
    graph = fc_graph(index, "float32", case[0], True, case[1])
    run_case(graph, seeded("FULLY_CONNECTED", index, "float32"), "float32")


@pytest.mark.parametrize("index", range(4))
def test_fc_int4_filter_per_tensor_tflm_exact(index):
    graph = fc_graph(index, "int8", index * 2, False, index % 2 == 0, w_dtype="int4")
    run_case(graph, seeded("FULLY_CONNECTED", 200 + index, "int8"), "int8")


def test_fc_per_tensor_multiplier_uses_float32_product():
    """TFLM forms s_in*s_w in float32 for per-tensor FC; the double product gives another M."""
    from toolchain.ops.fully_connected import per_tensor_multiplier
    from toolchain.arith.fixedpoint import quantize_multiplier

    rng = np.random.default_rng(11)
    differ = 0
    for s_in, s_w, s_out in rng.uniform(1e-3, 1e-1, (50, 3)).astype(np.float32):
        m32 = float(np.float32(s_in * s_w)) / float(s_out)
        assert per_tensor_multiplier(s_in, s_w, s_out) == quantize_multiplier(m32)
        differ += quantize_multiplier(float(s_in) * float(s_w) / float(s_out)) != \
            quantize_multiplier(m32)
    assert differ > 10


def test_fc_rejects_shuffled_weights_and_bad_bias_scale():
    opts = schema.FullyConnectedOptionsT()
    opts.weightsFormat = schema.FullyConnectedOptionsWeightsFormat.SHUFFLED4x16INT8
    with pytest.raises(GraphError, match="SHUFFLED4x16INT8"):
        registry.get("FULLY_CONNECTED").attrs_from_tflite(opts)
    x = oplab.act("x", (1, 4), scale=0.1)
    w = oplab.const("w", np.ones((2, 4), np.int8), scale=0.01)
    b = oplab.const("b", np.zeros(2, np.int32), scale=0.5)
    out = oplab.out_like("FULLY_CONNECTED", [x, w, b], {}, scale=0.01)
    with pytest.raises(GraphError, match="bias scale"):
        oplab.one_op("FULLY_CONNECTED", [x, w, b], {}, out)
