"""UNIDIRECTIONAL_SEQUENCE_LSTM graphs for the LSTM tests: random one-op LSTMs built by code
(int8 per-tensor or float, zero states) in named shape variants, the shared MNIST LSTMs' paths,
MNIST-like digit inputs, and a model's LSTM op as a graph of its own."""
from __future__ import annotations

import subprocess

import numpy as np

import oplab
from toolchain.backends.c import emit_c
from toolchain.ir import Graph
from toolchain.ops import lstm_math as lm
from toolchain.verify import cbuild, cexec


KIND = "UNIDIRECTIONAL_SEQUENCE_LSTM"
INT8 = "tflm/mnist_lstm_int8.tflite"
FLOAT = "tflm/mnist_lstm_float.tflite"


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


def host_dsp_run(graph: Graph, inputs, tmp_path, layout_field: str) -> np.ndarray:
    """The DSP-lowered C of `graph` built for the host (no DSP extension: plain C over
    whichever weights the lowering chose; `layout_field`, e.g. "filter_dsp", must be the one
    model.c passes) and run on `inputs`: its int8 output."""
    files = emit_c(graph, "model", "host", extra={"harness/host_main.c.j2": "main.c"},
                   variant="dsp")
    assert f".{layout_field} = model_" in files["model.c"]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    include, sources = cbuild.runtime_files("dsp", files)
    exe = tmp_path / "app"
    proc = subprocess.run(["gcc", *cexec.HOST_FLAGS, f"-I{include}", f"-I{tmp_path}",
                           str(tmp_path / "model.c"), str(tmp_path / "model_weights.c"),
                           str(tmp_path / "main.c"), *map(str, sources), "-o", str(exe), "-lm"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    paths = [tmp_path / f"in{i}.bin" for i in range(len(inputs))]
    for path, x in zip(paths, inputs):
        path.write_bytes(np.ascontiguousarray(x).tobytes())
    out = tmp_path / "out0.bin"
    run = subprocess.run([str(exe), *map(str, paths), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    t = graph.tensors[graph.outputs[0]]
    return np.frombuffer(out.read_bytes(), np.int8).reshape(t.shape)
