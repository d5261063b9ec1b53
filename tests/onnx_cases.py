"""Helpers of the ONNX frontend tests (tests/test_onnx_frontend_*.py): onnxruntime as the
oracle, `check_model` (import with and without cleanup; the reference and LiteRT equal
onnxruntime) and `make`, a hand-built ONNX graph."""
from __future__ import annotations


import numpy as np
from onnx import TensorProto, helper, numpy_helper

import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.onnx import load_onnx
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph

RTOL = 1e-4   # relative to the output's largest magnitude (at least 1)


def close(want, got, label=""):
    want = np.asarray(want, np.float32)
    oplab.assert_close(want, np.asarray(got).reshape(want.shape),
                       RTOL * max(1.0, float(np.abs(want).max())), label)


def to_nhwc(x):
    return x.transpose(0, 2, 3, 1) if x.ndim == 4 else x


def ort_session(model: bytes):
    import onnxruntime as ort

    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def ort_run(model: bytes, inputs):
    sess = ort_session(model)
    return sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), inputs)})


def check_model(model: bytes, inputs, litert=True, **load_args):
    """Import with and without cleanup; reference (and LiteRT) == onnxruntime."""
    want = ort_run(model, inputs)
    graphs = {c: load_onnx(model, cleanup=c, **load_args).validate() for c in (True, False)}
    nchw = load_args.get("keep_nchw_io", False)
    feed = [x if nchw else to_nhwc(x) for x in inputs]
    sess = ort_session(model)
    for cleanup, graph in graphs.items():
        assert graph.inputs == tuple(i.name for i in sess.get_inputs())
        assert graph.outputs == tuple(o.name for o in sess.get_outputs())
        for i, (w, got) in enumerate(zip(want, run_graph(graph, feed))):
            close(w if nchw else to_nhwc(w), got, f"cleanup={cleanup} output {i}")
    if litert:
        for i, (w, got) in enumerate(zip(want, run_litert(write_tflite(graphs[True]), feed))):
            close(w if nchw else to_nhwc(w), got, f"litert output {i}")
    return graphs[True]


def kinds(graph):
    return [op.kind for op in graph.ops]


def make(nodes, inputs: dict, outputs, inits=None, opset=17) -> bytes:
    vis = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs]
    tensors = [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()]
    graph = helper.make_graph(nodes, "g", vis, outs, tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model.SerializeToString()

