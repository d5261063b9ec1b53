"""The shared real models the tests use, and how to make inputs for them (seeded, by code)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from conftest import SHARED_MODELS
from toolchain.arith.fixedpoint import round_half_away


@dataclass(frozen=True)
class SharedModel:
    key: str
    rel: str
    samples: tuple[str, ...] = ()   # .npy files with sample inputs (relative to shared/models)

    @property
    def path(self) -> Path:
        return SHARED_MODELS / self.rel


INT8_MODELS = [
    SharedModel("kws", "mlperf_tiny/kws/kws_ref_model_int8.tflite",
                ("mlperf_tiny/kws/kws_sample_int8_label6.npy",
                 "mlperf_tiny/kws/kws_sample_input_int8.npy")),
    SharedModel("vww", "mlperf_tiny/vww/vww_96_int8.tflite",
                ("mlperf_tiny/vww/vww_sample_int8_label1_person.npy",)),
    SharedModel("ic", "mlperf_tiny/ic/pretrainedResnet_quant.tflite",
                ("mlperf_tiny/ic/ic_sample_int8_label0.npy",)),
    SharedModel("ad", "mlperf_tiny/ad/ad01_int8.tflite",
                ("mlperf_tiny/ad/ad_sample_normal_id01_40x640_float32.npy",)),
    SharedModel("hello_world_int8", "tflm/hello_world_int8.tflite"),
    SharedModel("micro_speech", "tflm/micro_speech_quantized.tflite"),
    SharedModel("mnist_lstm_int8", "tflm/mnist_lstm_int8.tflite"),
]
FLOAT_MODELS = [
    SharedModel("kws_float", "mlperf_tiny/kws/kws_ref_model_float32.tflite"),
    SharedModel("vww_float", "mlperf_tiny/vww/vww_96_float.tflite"),
    SharedModel("ic_float", "mlperf_tiny/ic/pretrainedResnet.tflite",
                ("mlperf_tiny/ic/ic_sample_fp32_0to255_label8.npy",)),
    SharedModel("ad_float", "mlperf_tiny/ad/ad01_fp32.tflite",
                ("mlperf_tiny/ad/ad_sample_normal_id01_40x640_float32.npy",)),
    SharedModel("hello_world_float", "tflm/hello_world_float.tflite"),
    SharedModel("mnist_lstm_float", "tflm/mnist_lstm_float.tflite"),
]


def sample_inputs(model: SharedModel, graph) -> list[list[np.ndarray]]:
    """Each shipped sample as a list of graph inputs (float samples quantized as TFLite does)."""
    t = graph.tensors[graph.inputs[0]]
    cases = []
    for rel in model.samples:
        x = np.load(SHARED_MODELS / rel)
        if x.size != t.size:                       # AD: 40 rows of 640 -> first two rows
            rows = x.reshape(-1, t.size)[:2]
        else:
            rows = [x]
        for row in rows:
            row = np.asarray(row, np.float32).reshape(t.shape) if x.dtype == np.float32 else row
            if t.dtype == "int8" and row.dtype != np.int8:
                s, zp = t.quant.s, t.quant.zp
                row = np.clip(round_half_away(np.float32(row) / np.float32(s)) + zp, -128, 127)
            cases.append([np.asarray(row).astype(_np(t.dtype)).reshape(t.shape)])
    return cases


def random_inputs(graph, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for name in graph.inputs:
        t = graph.tensors[name]
        if t.dtype == "int8":
            out.append(rng.integers(-128, 128, t.shape, dtype=np.int8))
        else:
            out.append(rng.normal(0, 1, t.shape).astype(np.float32))
    return out


def _np(dtype: str):
    return np.dtype(dtype)
