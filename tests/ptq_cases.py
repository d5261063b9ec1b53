"""Helpers of the PTQ tests (tests/test_ptq_*.py): calibration and held-out samples of the
shared float models, and the bit-exact comparison of an int8 graph with TFLite Micro."""
from __future__ import annotations


import numpy as np

from conftest import shared_model
from oplab import assert_exact
from toolchain.ir import Graph
from toolchain.ops.quantize import quantize_float
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm

CALIB, HELD_OUT = 16, 4


def variants(base: np.ndarray, n: int, seed: int, lo: float, hi: float) -> list:
    """Sample-derived inputs: the shipped image shifted, mirrored, rescaled and noised."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = np.roll(base, tuple(rng.integers(-4, 5, 2)), axis=(1, 2))
        x = x[:, :, ::-1] if rng.random() < 0.5 else x
        x = x * rng.uniform(0.7, 1.3) + rng.normal(0, 0.03 * (hi - lo), x.shape)
        out.append([np.clip(x, lo, hi).astype(np.float32)])
    return out


def vww_samples(n, seed):
    q = np.load(shared_model("mlperf_tiny/vww/vww_sample_int8_label1_person.npy"))
    return variants((q.astype(np.float32) + 128) / 255, n, seed, 0.0, 1.0)


def ic_samples(n, seed):
    x = np.load(shared_model("mlperf_tiny/ic/ic_sample_fp32_0to255_label8.npy"))
    return variants(x.astype(np.float32), n, seed, 0.0, 255.0)


def ad_samples(n, seed):
    rows = np.load(shared_model("mlperf_tiny/ad/ad_sample_normal_id01_40x640_float32.npy"))
    rng = np.random.default_rng(seed)
    pick = rows[:20] if seed == 0 else rows[20:]     # calibration and held-out rows differ
    return [[(pick[i % len(pick)] + rng.normal(0, 0.05, 640)).astype(np.float32)[None]]
            for i in range(n)]


def hello_samples(n, seed):
    xs = np.random.default_rng(seed).uniform(0, 2 * np.pi, n)
    return [[np.array([[x]], np.float32)] for x in xs]


MODELS = {"vww": ("mlperf_tiny/vww/vww_96_float.tflite", vww_samples),
          "ic": ("mlperf_tiny/ic/pretrainedResnet.tflite", ic_samples),
          "ad": ("mlperf_tiny/ad/ad01_fp32.tflite", ad_samples),
          "hello_world": ("tflm/hello_world_float.tflite", hello_samples)}


def int8_inputs(q: Graph, inputs: list) -> list:
    ts = [q.tensors[n] for n in q.inputs]
    return [x if t.dtype == "float32" else quantize_float(x, t.quant.s, t.quant.zp, t.dtype)
            for x, t in zip(inputs, ts)]


def assert_tflm_equal(q: Graph, blob: bytes, cases, label: str) -> None:
    for i, inputs in enumerate(cases):
        inputs = int8_inputs(q, inputs)
        ours, theirs = run_graph(q, inputs), run_tflm(blob, inputs)
        assert len(ours) == len(theirs)
        for k, (a, b) in enumerate(zip(ours, theirs)):
            assert_exact(a, np.asarray(b).reshape(a.shape), f"{label} case {i} output {k}")


