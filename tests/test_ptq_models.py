"""Post-training quantization of the shared float models: the int8 graphs run bit-exact in
TFLite Micro (int8 and float I/O), follow the TFLite int8 scheme, stay close to float, with
every observer; bad arguments are usage errors. Each model is quantized once per session
(the `ptq` fixture)."""
from __future__ import annotations


import numpy as np
import pytest

from conftest import shared_model
from ptq_cases import CALIB, HELD_OUT, MODELS, assert_tflm_equal, hello_samples
from toolchain.backends.tflite import write_tflite
from toolchain.errors import UsageError
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph
from toolchain.quant.accuracy import evaluate
from toolchain.quant.act_params import FIXED_OUTPUT, SAME_PARAMS
from toolchain.quant.calibration import collect
from toolchain.arith.fixedpoint import round_half_away
from toolchain.quant.ptq import quantize
from toolchain.quant.weights import BIAS_MAX, WEIGHT_AXIS


@pytest.fixture(scope="session")
def ptq():
    """get(key, io, observer) -> (float graph, int8 graph, .tflite bytes), built once each."""
    cache: dict = {}

    def get(key: str, io: str = "int8", observer: str = "minmax"):
        if key not in cache:
            rel, make = MODELS[key]
            graph = load_tflite(shared_model(rel))
            cache[key] = graph, collect(graph, make(CALIB, 0), progress=False)
        graph, stats = cache[key]
        if (key, io, observer) not in cache:
            q = quantize(graph, stats, observer=observer, io=io)
            cache[key, io, observer] = graph, q, write_tflite(q)
        return cache[key, io, observer]
    return get


@pytest.mark.parametrize("io", ["int8", "float"])
@pytest.mark.parametrize("key", list(MODELS))
def test_quantized_model_runs_bit_exact_in_tflm(ptq, key, io):
    graph, q, blob = ptq(key, io)
    for name in q.inputs + q.outputs:
        assert q.tensors[name].dtype == ("int8" if io == "int8" else "float32")
    if io == "float":
        assert q.ops[0].kind == "QUANTIZE" and q.ops[-1].kind == "DEQUANTIZE"
    assert q.inputs == graph.inputs and q.outputs == graph.outputs
    assert_tflm_equal(q, blob, MODELS[key][1](HELD_OUT, 1), f"{key}/{io}")


def _scheme_violations(graph: Graph, q: Graph) -> list[str]:
    """Everything in `q` that breaks TFLite's int8 scheme, as readable lines."""
    bad = []
    for i, op in enumerate(q.ops):
        ins, outs = q.op_inputs(op), q.op_outputs(op)
        where = f"op {i} {op.kind}"
        if op.kind in WEIGHT_AXIS:
            w, axis = ins[1], WEIGHT_AXIS[op.kind]
            fw = graph.tensors[w.name].data.astype(np.float64)
            peak = np.abs(np.moveaxis(fw, axis, 0).reshape(fw.shape[axis], -1)).max(axis=1)
            want = peak / 127
            if len(ins) > 2 and ins[2] is not None:      # bias must fit: TFLite's adjustment
                fb = np.abs(graph.tensors[ins[2].name].data.astype(np.float64))
                want = np.maximum(want, fb / (ins[0].quant.s * BIAS_MAX))
            want = np.where(want > 0, want, 1).astype(np.float32)
            shape = [1] * fw.ndim
            shape[axis] = -1
            if w.dtype != "int8" or w.quant.axis != axis or np.any(w.quant.zero_point != 0):
                bad.append(f"{where}: filter {w.dtype} axis {w.quant.axis}, not int8 axis {axis}")
            elif not np.array_equal(w.quant.scale, want):
                bad.append(f"{where}: filter scales are not max|w|/127")
            elif not np.array_equal(w.data, np.clip(round_half_away(
                    fw / want.astype(np.float64).reshape(shape)), -127, 127)):
                bad.append(f"{where}: filter values are not round(w / scale)")
            if len(ins) > 2 and ins[2] is not None:
                b = ins[2]
                s_b = np.float32(ins[0].quant.s) * w.quant.scale
                fb = graph.tensors[b.name].data.astype(np.float64)
                if b.dtype != "int32" or not np.array_equal(b.quant.scale, s_b):
                    bad.append(f"{where}: bias is not int32 at s_in * s_w")
                elif not np.array_equal(b.data, round_half_away(fb / s_b.astype(np.float64))):
                    bad.append(f"{where}: bias values are not round(b / (s_in * s_w))")
        if op.kind in FIXED_OUTPUT and (outs[0].quant.s, outs[0].quant.zp) != FIXED_OUTPUT[
                op.kind]:
            bad.append(f"{where}: output params {outs[0].quant.s}, {outs[0].quant.zp}")
        if op.kind in SAME_PARAMS and not ins[0].quant.same_as(outs[0].quant):
            bad.append(f"{where}: output params differ from the input's")
        for t in outs:
            if t.dtype == "int8" and (t.quant.per_channel or not -128 <= t.quant.zp <= 127):
                bad.append(f"{where}: activation {t.name!r} quant {t.quant}")
    return bad


@pytest.mark.parametrize("key", list(MODELS))
def test_int8_graph_follows_tflite_int8_scheme(ptq, key):
    graph, q, _ = ptq(key)
    assert _scheme_violations(graph, q) == []
    stats = collect(graph, MODELS[key][1](CALIB, 0), progress=False)
    fixed = {op.outputs[0] for op in graph.ops if op.kind in FIXED_OUTPUT}
    for name, st in stats.tensors.items():       # min-max ranges fit in the int8 grid
        t = q.tensors[name]
        if name in fixed:
            continue
        lo, hi = (-128 - t.quant.zp) * t.quant.s, (127 - t.quant.zp) * t.quant.s
        step = t.quant.s
        assert lo - step <= min(st.minimum, 0) and max(st.maximum, 0) <= hi + step, name


@pytest.mark.parametrize("key,min_snr", [("vww", 20), ("ic", 20), ("ad", 20),
                                         ("hello_world", 20)])
def test_int8_output_close_to_float(ptq, key, min_snr):
    graph, q, _ = ptq(key)
    report = evaluate(graph, q, MODELS[key][1](8, 2), progress=False)
    print(report.table())
    assert report.output_snr_db[0] >= min_snr
    assert report.worst is not None and report.worst.kind in {*WEIGHT_AXIS, "ADD", "SOFTMAX"}


@pytest.mark.parametrize("observer", ["minmax", "percentile", "mse", "percentile:99.9"])
@pytest.mark.parametrize("key", ["ic", "vww"])
def test_each_observer_gives_a_valid_bit_exact_graph(ptq, key, observer):
    graph, q, blob = ptq(key, "int8", observer)
    q.validate()                                # shapes, dtypes, and every op's check
    assert _scheme_violations(graph, q) == []
    assert_tflm_equal(q, blob, MODELS[key][1](2, 3), f"{key}/{observer}")


def test_bad_arguments_are_usage_errors(ptq):
    graph, q, _ = ptq("hello_world")
    with pytest.raises(UsageError, match="unknown observer 'kl'; supported: minmax"):
        quantize(graph, hello_samples(2, 0), observer="kl")
    with pytest.raises(UsageError, match="io must be one of int8, float"):
        quantize(graph, hello_samples(2, 0), io="uint8")
    with pytest.raises(UsageError, match="takes a float32 model"):
        quantize(q, hello_samples(2, 0))
