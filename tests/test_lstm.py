"""UNIDIRECTIONAL_SEQUENCE_LSTM: reference == TFLite Micro (int8 bit-exact, float to 1e-5) on
the shared MNIST LSTMs and on random one-op LSTMs built here; generated C == reference on the
host and under QEMU (Cortex-M4 DSP kernel and Cortex-M0 portable); refusals; .tflite round trip.
"""
from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import oplab
from conftest import shared_model
from oplab import assert_close, assert_exact
from toolchain import api
from toolchain.lowering import cvariant
from toolchain.backends.c import emit_c, lower
from toolchain.lowering.ccall import CArray
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, GraphError, QuantParams, Tensor
from toolchain.ops import lstm_dsp, lstm_math as lm
from toolchain.ops import lstm_int8 as li
from toolchain.ops.registry import Node
from toolchain.verify.executors import get_executor
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm

KIND = "UNIDIRECTIONAL_SEQUENCE_LSTM"
INT8 = "tflm/mnist_lstm_int8.tflite"
FLOAT = "tflm/mnist_lstm_float.tflite"


# ------------------------------------------------------------------ graphs built by code

def lstm_graph(seed: int, dtype="int8", batch=1, time=5, n_in=8, units=8, time_major=False,
               clip=0.0, hidden_zp=0, cell_log2=-12, x_scale=None) -> Graph:
    """A one-op LSTM with random weights (per-tensor int8 or float) and zero states."""
    rng = np.random.default_rng(seed)
    shape = (time, batch, n_in) if time_major else (batch, time, n_in)
    out_shape = shape[:2] + (units,)
    q = dtype == "int8"
    s_x = x_scale or float(rng.uniform(0.004, 0.03))
    s_h = float(rng.uniform(0.004, 0.012))
    x = oplab.act("x", shape, dtype, scale=s_x if q else None,
                  zp=int(rng.integers(-100, 100)) if q else None)
    ins = [x]
    for i in range(1, 24):
        cols = n_in if i in lm.INPUT_W else units
        if i in lm.INPUT_W + lm.RECURRENT_W:
            if q:
                ins.append(oplab.const(f"w{i}", rng.integers(-127, 128, (units, cols), np.int8),
                                       scale=[rng.uniform(0.0005, 0.004)]))
            else:
                ins.append(oplab.const(f"w{i}", (rng.standard_normal((units, cols)) * 0.4)
                                       .astype(np.float32)))
        elif i in lm.BIAS:
            ins.append(oplab.const(f"b{i}", rng.integers(-3000, 3000, units, np.int32),
                                   scale=[s_x * 0.005]) if q else
                       oplab.const(f"b{i}", rng.standard_normal(units).astype(np.float32)))
        elif i == lm.HIDDEN:
            ins.append(oplab.const("h0", np.full((batch, units), hidden_zp, np.int8), scale=[s_h],
                                   zp=[hidden_zp]) if q else
                       oplab.const("h0", np.zeros((batch, units), np.float32)))
        elif i == lm.CELL:
            ins.append(oplab.const("c0", np.zeros((batch, units), np.int16),
                                   scale=[2.0 ** cell_log2]) if q else
                       oplab.const("c0", np.zeros((batch, units), np.float32)))
        else:
            ins.append(None)
    out = oplab.act("out", out_shape, dtype, scale=s_h if q else None,
                    zp=hidden_zp if q else None)
    attrs = dict(activation="TANH", cell_clip=clip, time_major=time_major)
    return oplab.one_op(KIND, ins, attrs, out)


VARIANTS = {
    "small": dict(),
    "tails_batch3_clip": dict(batch=3, time=4, n_in=7, units=6, clip=1.5),
    "time_major": dict(batch=2, time=6, n_in=12, units=8, time_major=True, cell_log2=-11),
    "hidden_zp_cell2^-13": dict(time=7, n_in=5, units=12, hidden_zp=-9, cell_log2=-13),
    "big_input_scale": dict(time=3, n_in=16, units=4, x_scale=0.5, clip=3.0),
    "odd_units_batch2": dict(batch=2, time=3, n_in=3, units=5, cell_log2=-10),
}


def lstm_case(name: str, seed: int, dtype="int8") -> Graph:
    return lstm_graph(seed, dtype, **VARIANTS[name])


@pytest.mark.parametrize("name", VARIANTS)
def test_int8_one_op_equals_tflm(name):
    for seed in range(4):
        graph = lstm_case(name, seed)
        oplab.check_tflm(graph, np.random.default_rng(seed))


@pytest.mark.parametrize("name", ["small", "tails_batch3_clip", "time_major"])
def test_float_one_op_close_to_tflm_and_litert(name):
    for seed in range(3):
        graph = lstm_case(name, seed, "float32")
        oplab.check_tflm(graph, np.random.default_rng(seed), litert=True, atol=1e-5)


def test_dsp_fast_path_proof():
    """The SMMLAR requantization is enabled only when its conditions hold."""
    def params(graph):
        return li.int8_params(Node.of(graph, graph.ops[0]).ins, 0.0)
    for name in ("small", "tails_batch3_clip", "time_major", "hidden_zp_cell2^-13"):
        assert lstm_dsp.dsp_fast(params(lstm_case(name, 5))), name
    assert lstm_dsp.dsp_fast(params(lstm_only(load_tflite(shared_model(INT8)))))
    big = params(lstm_case("big_input_scale", 5))
    assert max(s for _, s in big.mult_in) >= 0 and not lstm_dsp.dsp_fast(big)


def _c_matches(graph, executor, seeds=(0, 1), **options):
    run = get_executor(executor)
    for seed in seeds:
        inputs = oplab.random_inputs(graph, np.random.default_rng(100 + seed))
        want = run_graph(graph, inputs)[0]
        got = run(graph, inputs, **options).outputs[0]
        if want.dtype.kind == "f":
            assert_close(want, got, 1e-5, f"{executor} seed {seed}")
        else:
            assert_exact(want, got, f"{executor} seed {seed}")


@pytest.mark.parametrize("name", VARIANTS)
def test_c_host_one_op(name):
    _c_matches(lstm_case(name, 3), "host")
    if name != "big_input_scale":
        _c_matches(lstm_case(name, 3, "float32"), "host", seeds=(0,))


@pytest.mark.parametrize("core", ["cortex-m4", "cortex-m0"])
def test_c_qemu_one_op(core):
    for name in ("tails_batch3_clip", "hidden_zp_cell2^-13", "big_input_scale"):
        _c_matches(lstm_case(name, 5), "qemu", seeds=(0,), target=core)
    _c_matches(lstm_case("time_major", 5, "float32"), "qemu", seeds=(0,), target=core)


# ------------------------------------------------------------------ refusals

def _with_input(graph: Graph, index: int, tensor: Tensor | None, **attrs) -> Graph:
    op = graph.ops[0]
    inputs = list(op.inputs)
    inputs[index] = tensor.name if tensor is not None else ""
    tensors = dict(graph.tensors)
    if tensor is not None:
        tensors[tensor.name] = tensor
    new = op.replace(inputs=inputs, attrs={**dict(op.attrs), **attrs})
    return graph.replace(tensors=tensors, ops=[new])


@pytest.mark.parametrize("index,attrs,needle", [
    (9, {}, "peephole"), (16, {}, "projection"), (20, {}, "layer-norm"),
    (None, {"activation": "RELU"}, "TANH"), (1, {}, "CIFG")])
def test_unsupported_variants_are_refused_by_name(index, attrs, needle):
    graph = lstm_case("small", 0)
    extra = None
    if index is not None and index != 1:
        extra = oplab.const("extra", np.ones(8, np.int16), scale=[0.01])
    broken = _with_input(graph, index if index is not None else 9, extra, **attrs)
    with pytest.raises(GraphError, match=f"{KIND}.*{needle}"):
        broken.validate()


def test_per_channel_weights_and_nonpow2_cell_are_refused():
    graph = lstm_case("small", 0)
    w = graph.tensors["w2"]
    per_ch = w.replace(quant=QuantParams(np.full(8, 0.01), np.zeros(8), 0))
    with pytest.raises(GraphError, match="per-tensor"):
        graph.replace(tensors={**graph.tensors, "w2": per_ch}).validate()
    c0 = graph.tensors["c0"].replace(quant=QuantParams(0.0003, 0))
    with pytest.raises(GraphError, match="power of two"):
        graph.replace(tensors={**graph.tensors, "c0": c0}).validate()


# ------------------------------------------------------------------ the shared models

def digit_like(seed: int) -> np.ndarray:
    """A 28x28 image of a few thick strokes (MNIST-like), quantized as the model's input."""
    rng = np.random.default_rng(seed)
    img = np.zeros((28, 28))
    yy, xx = np.mgrid[0:28, 0:28]
    for _ in range(int(rng.integers(2, 5))):
        (y0, x0), (y1, x1) = rng.uniform(4, 24, (2, 2))
        for t in np.linspace(0, 1, 20):
            d = np.hypot(yy - (y0 + t * (y1 - y0)), xx - (x0 + t * (x1 - x0)))
            img = np.maximum(img, np.clip(1.6 - d / 1.2, 0, 1))
    return (np.round(img * 255) - 128).astype(np.int8).reshape(1, 28, 28)


def int8_cases():
    rng = np.random.default_rng(7)
    return [digit_like(s) for s in range(6)] + \
           [rng.integers(-128, 128, (1, 28, 28), dtype=np.int8) for _ in range(6)]


def lstm_only(graph: Graph) -> Graph:
    op = next(o for o in graph.ops if o.kind == KIND)
    return graph.replace(ops=[op], outputs=[op.outputs[0]]).validate()


def test_mnist_int8_every_tensor_equals_tflm():
    path = shared_model(INT8)
    graph, blob = load_tflite(path), path.read_bytes()
    names = list(graph.tensors)
    produced = {n for op in graph.ops for n in op.outputs} | set(graph.inputs)
    for c, x in enumerate(int8_cases()):
        values = run_graph(graph, [x], keep_all=True)
        _, interp = run_tflm(blob, [x], preserve_all=True)
        for name in produced:
            theirs = np.asarray(interp.GetTensor(names.index(name), 0)["tensor_data"])
            assert_exact(theirs.reshape(values[name].shape), values[name], f"case {c} {name}")


def test_mnist_float_close_to_tflm_and_litert():
    path = shared_model(FLOAT)
    graph, blob = load_tflite(path), path.read_bytes()
    lstm = lstm_only(graph)
    out = lstm.outputs[0]
    index = list(graph.tensors).index(out)
    for c, x in enumerate(int8_cases()[:4]):
        x = ((x.astype(np.float32) + 128) / 255).astype(np.float32)
        ours = run_graph(graph, [x], keep_all=True)
        _, interp = run_tflm(blob, [x], preserve_all=True)
        theirs = np.asarray(interp.GetTensor(index, 0)["tensor_data"]).reshape(ours[out].shape)
        assert_close(theirs, ours[out], 1e-5, f"case {c} LSTM output vs TFLM")
        assert_close(run_litert(blob, [x])[0], ours[graph.outputs[0]], 1e-5, f"case {c}")


def test_mnist_round_trip_runs_the_same_in_tflm_and_litert():
    for rel in (INT8, FLOAT):
        path = shared_model(rel)
        original = path.read_bytes()
        written = write_tflite(load_tflite(path))
        assert write_tflite(load_tflite(written)) == written
        model = schema.ModelT.InitFromPackedBuf(written, 0)
        sub = model.subgraphs[0]
        op = sub.operators[0]
        assert len(op.inputs) == 24
        states = [sub.tensors[op.inputs[i]] for i in (lm.HIDDEN, lm.CELL)]
        assert all(t.isVariable and not model.buffers[t.buffer].data for t in states)
        for x in int8_cases()[:3]:
            x = x if rel == INT8 else ((x.astype(np.float32) + 128) / 255).astype(np.float32)
            assert_exact(run_tflm(original, [x])[0], run_tflm(written, [x])[0], rel)
            assert_exact(run_litert(original, [x])[0], run_litert(written, [x])[0], rel)


def test_writer_refuses_a_nonzero_initial_state():
    graph = lstm_case("small", 0)
    h0 = graph.tensors["h0"]
    h1 = h0.replace(data=np.ones(h0.shape, np.int8))
    with pytest.raises(GraphError, match="nonzero initial"):
        write_tflite(graph.replace(tensors={**graph.tensors, "h0": h1}))


@pytest.mark.parametrize("rel", [INT8, FLOAT])
def test_mnist_lstm_c_host_and_qemu(rel):
    graph = lstm_only(load_tflite(shared_model(rel)))
    cases = int8_cases()[:2]
    if rel == FLOAT:
        cases = [((x.astype(np.float32) + 128) / 255).astype(np.float32) for x in cases]
    for executor, opts in [("host", {}), ("qemu", {"target": "cortex-m4"}),
                           ("qemu", {"target": "cortex-m0"})]:
        for c, x in enumerate(cases):
            want = run_graph(graph, [x])[0]
            got = get_executor(executor)(graph, [x], **opts).outputs[0]
            label = f"{rel} {executor} {opts} case {c}"
            if rel == FLOAT:
                assert_close(want, got, 1e-5, label)
            else:
                assert_exact(want, got, label)


def test_mnist_int8_beats_tflm_cmsis_nn_on_cortex_m4():
    """TFLM + CMSIS-NN: 574,385 instructions and a 4,052-byte arena (shared baseline table):
    fitml needs at most half the instructions."""
    graph = load_tflite(shared_model(INT8))
    assert api.inspect(graph)["macs"] == 113_120
    x = digit_like(1)
    res = get_executor("qemu")(graph, [x], target="cortex-m4")
    assert_exact(run_graph(graph, [x])[0], res.outputs[0], "mnist_lstm_int8 m4")
    assert res.stats["instructions"] <= 574_385 // 2
    assert lower(graph, variant="dsp").plan.arena_size < 4_052


# ------------------------------------------------------------------ the DSP layout path

FAST = ["small", "tails_batch3_clip", "time_major", "hidden_zp_cell2^-13", "odd_units_batch2"]


def _lowered_params(graph, variant):
    return lower(graph, variant=variant).calls[0].params


@pytest.mark.parametrize("name", FAST + ["big_input_scale"])
def test_dsp_layout_replaces_int8_weights_only_when_proven(name):
    graph = lstm_case(name, 2)
    dsp, mve = _lowered_params(graph, "dsp"), _lowered_params(graph, "mve")
    assert mve["filter_dsp"] == "NULL" and isinstance(mve["input_weights"], CArray)
    if name == "big_input_scale":          # no SMMLAR proof: int8 weights, no layout
        assert dsp["filter_dsp"] == "NULL" and isinstance(dsp["input_weights"], CArray)
        return
    assert isinstance(dsp["filter_dsp"], CArray), name
    assert dsp["input_weights"] == dsp["recurrent_weights"] == "NULL"
    with cvariant.plain_layouts([graph.ops[0].outputs[0]]):     # no room: the int8 stream
        plain = _lowered_params(graph, "dsp")
    assert plain["filter_dsp"] == "NULL" and isinstance(plain["weights_dsp"], CArray)
    assert plain["input_weights"] == plain["recurrent_weights"] == "NULL"


def test_lerp_tables_reproduce_the_int16_sigmoid_and_tanh():
    """Every int16 gate input and every cell state of each cell scale; a one-entry change is
    caught (the check can fail)."""
    for cell_log2 in range(-15, -7):
        graph = lstm_graph(0, cell_log2=cell_log2)
        p = li.int8_params(Node.of(graph, graph.ops[0]).ins, 0.0)
        m, s = p.cell_tanh
        m, s = (3 << s, 0) if m == 0 else (m, s)
        assert lstm_dsp.lerp_exact(p, m, s), cell_log2
    sig, tanh = lstm_dsp.lerp_tables()
    q = np.arange(-32768, 32768, dtype=np.int64)
    bad = sig.copy()
    bad[200, 1] += 1
    assert not np.array_equal(lstm_dsp.lerp_eval(bad, -192, 3 * q, 9, 10),
                              lstm_dsp.lerp_eval(sig, -192, 3 * q, 9, 10))


def _run_host_dsp(graph, inputs, tmp_path):
    """The DSP-lowered C built for the host (no DSP extension: plain C over the layout)."""
    import subprocess

    from toolchain.verify import cbuild, cexec
    files = emit_c(graph, "model", "host", extra={"harness/host_main.c.j2": "main.c"},
                   variant="dsp")
    assert ".filter_dsp = model_" in files["model.c"]      # the layout, not the int8 path
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    include, sources = cbuild.runtime_files("dsp", files)
    exe = tmp_path / "app"
    proc = subprocess.run(["gcc", *cexec.HOST_FLAGS, f"-I{include}", f"-I{tmp_path}",
                           str(tmp_path / "model.c"), str(tmp_path / "model_weights.c"),
                           str(tmp_path / "main.c"), *map(str, sources), "-o", str(exe), "-lm"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ins = [tmp_path / f"in{i}.bin" for i in range(len(inputs))]
    for path, x in zip(ins, inputs):
        path.write_bytes(np.ascontiguousarray(x).tobytes())
    out = tmp_path / "out0.bin"
    run = subprocess.run([str(exe), *map(str, ins), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    t = graph.tensors[graph.outputs[0]]
    return np.frombuffer(out.read_bytes(), np.int8).reshape(t.shape)


@pytest.mark.parametrize("name", FAST)
def test_dsp_layout_plain_c_on_host(name, tmp_path):
    graph = lstm_case(name, 4)
    assert isinstance(_lowered_params(graph, "dsp")["filter_dsp"], CArray)
    for seed in (0, 1):
        inputs = oplab.random_inputs(graph, np.random.default_rng(200 + seed))
        assert_exact(run_graph(graph, inputs)[0], _run_host_dsp(graph, inputs, tmp_path),
                     f"{name} host dsp seed {seed}")


def test_dsp_layout_on_cortex_m4_every_shape_and_the_int8_fallback():
    for name in ("small", "time_major", "odd_units_batch2"):
        _c_matches(lstm_case(name, 6), "qemu", seeds=(0,), target="cortex-m4")
    graph = lstm_case("odd_units_batch2", 6)
    # layout given up for flash: the int8 stream (more in test_lstm_s8_stream.py)
    with cvariant.plain_layouts([graph.ops[0].outputs[0]]):
        _c_matches(graph, "qemu", seeds=(1,), target="cortex-m4")
