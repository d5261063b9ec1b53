"""The MLPerf Tiny KWS float32 model (five hybrid CONV_2D): fitml's reference end to end within
1e-5 of LiteRT's range, and each hybrid layer, fed LiteRT's own input tensor, reproduces LiteRT's
output bits."""
from __future__ import annotations

import numpy as np
import oplab
from conftest import shared_model

from toolchain.ir import Graph
from toolchain.ops import hybrid, registry
from toolchain.ops.registry import Node
from toolchain.verify.litert import run_litert
from hybrid_cases import F32, REFS, float_input


# ---- the real model: MLPerf Tiny KWS float32 (five hybrid CONV_2D) ----------------------------

def _kws():
    from toolchain.frontends.tflite import load_tflite

    path = shared_model("mlperf_tiny/kws/kws_ref_model_float32.tflite")
    return path, load_tflite(path)


def _kws_inputs(rng):
    """The int8 KWS sample dequantized with the int8 model's input params, plus noise inputs."""
    sample = np.load(shared_model("mlperf_tiny/kws/kws_sample_input_int8.npy"))
    real = ((sample.astype(np.float32) - 83) * F32(0.5847)).reshape(1, 49, 10, 1)
    return [real] + [float_input(rng, (1, 49, 10, 1), spread=s) for s in (1.0, 10.0, 40.0)]


def run_with_hybrid(graph: Graph, x: np.ndarray) -> list[np.ndarray]:
    """Op by op: hybrid nodes through toolchain.ops.hybrid, the rest through the registry."""
    values = {graph.inputs[0]: x}
    values.update({n: t.data for n, t in graph.tensors.items() if t.is_const})
    for op in graph.ops:
        node = Node.of(graph, op)
        args = [values[n] if n else None for n in op.inputs]
        ref = REFS[op.kind] if hybrid.is_hybrid(node) else registry.get(op.kind).reference
        values.update({t.name: v for t, v in zip(node.outs, ref(node, args))})
    return [values[n] for n in graph.outputs]


def test_kws_float_model_end_to_end(rng):
    path, graph = _kws()
    assert sum(hybrid.is_hybrid(Node.of(graph, op)) for op in graph.ops) == 5
    model = path.read_bytes()
    for x in _kws_inputs(rng):
        ours = run_with_hybrid(graph, x)[0]
        theirs = run_litert(model, [x])[0]
        oplab.assert_close(theirs, ours, atol=1e-5 * float(np.ptp(theirs)), label="KWS output")


def test_kws_hybrid_layers_bit_exact(rng):
    """Each hybrid CONV_2D, fed LiteRT's own input tensor, reproduces LiteRT's output bits."""
    from ai_edge_litert import interpreter as litert

    path, graph = _kws()
    interp = litert.Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    index = {d["name"]: d["index"] for d in interp.get_tensor_details()}
    for x in _kws_inputs(rng):
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        interp.invoke()
        for op in graph.ops:
            node = Node.of(graph, op)
            if not hybrid.is_hybrid(node):
                continue
            args = [t.data if t.is_const else interp.get_tensor(index[t.name])
                    for t in node.ins]
            ours = hybrid.hybrid_conv_reference(node, args)[0]
            oplab.assert_exact(interp.get_tensor(index[op.outputs[0]]), ours, op.name)
