"""Each op of the shared real models run by its C kernel (through ctypes) on the reference's
own input tensors: exact for integers, within a float tolerance otherwise."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from ckernels import check, lower
from toolchain.ops import hybrid
from toolchain.ops.registry import Node
from toolchain.ops.interpreter import run_graph


# ---------------------------------------------------------------------- real models

REAL_MODELS = ["mlperf_tiny/kws/kws_ref_model_int8.tflite",
               "mlperf_tiny/ic/pretrainedResnet_quant.tflite",
               "mlperf_tiny/vww/vww_96_int8.tflite",
               "mlperf_tiny/ad/ad01_int8.tflite", "tflm/micro_speech_quantized.tflite",
               "mlperf_tiny/vww/vww_96_float.tflite", "mlperf_tiny/ad/ad01_fp32.tflite",
               "mlperf_tiny/ic/pretrainedResnet.tflite",
               "mlperf_tiny/kws/kws_ref_model_float32.tflite"]


@pytest.mark.parametrize("rel", REAL_MODELS, ids=lambda r: r.split("/")[-1].split(".")[0])
def test_real_model_layer_by_layer(lib, rel):
    """Each op of a shared model, run by its C kernel on the reference's own input tensors."""
    from conftest import shared_model
    from toolchain.frontends.tflite import load_tflite
    from toolchain.ir import Graph

    graph = load_tflite(shared_model(rel))
    rng = np.random.default_rng(14)
    values = run_graph(graph, oplab.random_inputs(graph, rng), keep_all=True)
    for index, op in enumerate(graph.ops):
        names = [n for n in op.inputs if n] + list(op.outputs)
        live = [n for n in op.inputs if n and not graph.tensors[n].is_const]
        sub = Graph.build([graph.tensors[n] for n in dict.fromkeys(names)], [op], live,
                          op.outputs)
        node = Node.of(sub, op)
        if lower(node).alias_of is not None:
            continue
        check(lib, sub, rng, 1e-4, inputs=[values[n] for n in live],
              label=f"op {index} {op.kind}", exact=hybrid.is_hybrid(node))
