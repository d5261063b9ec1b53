"""SVDF test models, made honestly from Keras: TensorFlow's converter never emits SVDF from
anything Keras builds (tensorflow/tensorflow#63035, tflite-micro#2529: the fusion no longer
fires; Keras has no SVDF layer), so the SVDF graph is assembled from a Keras model's weights.

The Keras model is the SVDF computation over one window of `memory` frames: Dense(filters, no
bias) projects every frame (weights_feature), DepthwiseConv1D(kernel_size=memory) filters each
projected channel over the window (weights_time), and a frozen Dense(units) whose kernel sums
each unit's `rank` filters adds the bias. Its weights become a one-op SVDF graph of fitml's IR
(written by fitml's .tflite writer), whose activation state streams the same window: step t
of the SVDF equals the Keras model on the last `memory` frames (zeros before the first).

int8 is fitml's post-training quantizer on the float graph, calibrated on a seeded stream:
TFLM's integer SVDF scheme (int8 input and output, int8 symmetric weights_feature, symmetric
int16 weights_time (10 bits used) and activation state, int32 bias at scale s_state * s_time,
fused activation RELU: LiteRT's integer kernel requires it; neither it nor TFLM applies it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import oplab
from toolchain.ir import Graph, Op
from toolchain.ops.quantize import quantize_float
from toolchain.quant.ptq import quantize


@dataclass
class SvdfModel:
    graph: Graph
    keras: object            # the tf_keras window model (float), or None for int8
    frames: list             # the input stream: one [batch, input_size] array per step


def keras_svdf(input_size: int, filters: int, memory: int, rank: int, seed: int):
    """The Keras window model [memory, input_size] -> [units]."""
    k = pytest.importorskip("tf_keras")
    k.utils.set_random_seed(seed)
    units = filters // rank
    inp = k.Input((memory, input_size), batch_size=1)
    x = k.layers.Dense(filters, use_bias=False, name="feature")(inp)
    x = k.layers.DepthwiseConv1D(memory, use_bias=False, name="time",
                                 depthwise_initializer="glorot_uniform")(x)
    sums = np.kron(np.eye(units, dtype=np.float32), np.ones((rank, 1), np.float32))
    reduce = k.layers.Dense(units, name="units", trainable=False,
                            bias_initializer=k.initializers.RandomNormal(0.0, 0.5, seed=seed))
    out = reduce(k.layers.Flatten()(x))
    reduce.set_weights([sums, reduce.get_weights()[1]])
    return k.Model(inp, out)


def svdf_weights(model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights_feature [filters, input], weights_time [filters, memory], bias [units])."""
    wf = model.get_layer("feature").get_weights()[0].T
    wt = model.get_layer("time").get_weights()[0][:, :, 0].T
    return (np.ascontiguousarray(wf, np.float32), np.ascontiguousarray(wt, np.float32),
            model.get_layer("units").get_weights()[1].astype(np.float32))


def float_graph(wf, wt, bias, batch: int, rank: int, activation: str = "NONE") -> Graph:
    filters, memory = wt.shape
    x = oplab.act("x", (batch, wf.shape[1]), "float32")
    ins = [x, oplab.const("weights_feature", wf), oplab.const("weights_time", wt),
           oplab.const("bias", bias),
           oplab.const("state", np.zeros((batch, memory * filters), np.float32))]
    attrs = dict(rank=rank, activation=activation)
    return oplab.one_op("SVDF", ins, attrs, oplab.out_like("SVDF", ins, attrs))


def int8_graph(float_g: Graph, stream: list) -> Graph:
    """The float SVDF quantized by fitml's quantizer (toolchain/quant/svdf.py: TFLM's integer
    SVDF scheme), calibrated on `stream` run as one sequence."""
    return quantize(float_g, [[f] for f in stream], progress=False)


def build(input_size: int, filters: int, memory: int, rank: int, mode: str, seed: int,
          batch: int = 1, steps: int = 8) -> SvdfModel:
    """The Keras model's SVDF (float32, or int8 calibrated on a seeded stream) over `batch`
    independent streams, and `steps` frames of them (int8: quantized)."""
    model = keras_svdf(input_size, filters, memory, rank, seed)
    wf, wt, bias = svdf_weights(model)
    g = float_graph(wf, wt, bias, batch, rank)
    rng = np.random.default_rng(seed)
    stream = [rng.uniform(-1, 1, (batch, input_size)).astype(np.float32) for _ in range(steps)]
    if mode == "float32":
        return SvdfModel(g, model, stream)
    calib = [rng.uniform(-1, 1, (batch, input_size)).astype(np.float32) for _ in range(32)]
    q = int8_graph(g, calib)
    x = q.tensors["x"].quant
    return SvdfModel(q, None, [quantize_float(f, x.s, x.zp, "int8") for f in stream])


def keras_windows(model, frames: list, memory: int) -> list[np.ndarray]:
    """The Keras window model at every step, per stream (batch row): the last `memory` frames,
    zeros before; [step][batch, units]."""
    batch, width = frames[0].shape
    seq = np.concatenate([np.zeros((memory - 1, batch, width), np.float32), np.stack(frames)])
    windows = np.stack([seq[t:t + memory, b] for t in range(len(frames)) for b in range(batch)])
    return list(np.asarray(model(windows)).reshape(len(frames), batch, -1))


def two_svdf_and_fc(rng) -> Graph:
    """Float SVDF (RELU, 6 inputs, 8 filters, rank 2) -> SVDF (6 filters, memory 3, rank 1) ->
    FULLY_CONNECTED to 3 logits, seeded weights drawn from `rng` (keyword-spotting shape)."""
    first = float_graph(*(rng.normal(0, 0.5, s).astype(np.float32)
                          for s in ((8, 6), (8, 4), (4,))), 1, 2, "RELU")
    tensors = dict(first.tensors)
    ins = [tensors["out"], oplab.const("wf2", rng.normal(0, 0.5, (6, 4)).astype(np.float32)),
           oplab.const("wt2", rng.normal(0, 0.5, (6, 3)).astype(np.float32)),
           oplab.const("b2", rng.normal(0, 0.5, 6).astype(np.float32)),
           oplab.const("state2", np.zeros((1, 18), np.float32))]
    second = oplab.out_like("SVDF", ins, dict(rank=1), name="h2")
    fc_in = [second, oplab.const("w3", rng.normal(0, 0.5, (3, 6)).astype(np.float32))]
    logits = oplab.out_like("FULLY_CONNECTED", fc_in, {}, name="logits")
    tensors.update({t.name: t for t in ins[1:] + fc_in + [logits]})
    ops = [*first.ops, Op("SVDF", [t.name for t in ins], ["h2"], dict(rank=1)),
           Op("FULLY_CONNECTED", ["h2", "w3"], ["logits"], {})]
    return Graph.build(tensors.values(), ops, ["x"], ["logits"]).validate()
