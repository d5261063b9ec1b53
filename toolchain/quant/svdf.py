"""SVDF in TFLite Micro's integer scheme (svdf_common.cc's EvalIntegerSvdfReference): int8
input and output (asymmetric, calibrated like any activation), int8 symmetric weights_feature,
weights_time symmetric on 10 bits stored in int16 (as TFLite's converter: 6 bits left for the
int32 sum over memory, 32767 * 511 * 64 < 2^31), int16 symmetric activation state (its range:
the state's values over the calibration stream, i.e. the feature projections), int32 bias at
s_state * s_time.

The fused activation becomes RELU: LiteRT's integer kernel insists on it, and neither it nor
TFLM applies it (a float RELU still holds, through the calibrated output range's floor).
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op, QuantParams, Tensor
from ..ops.quantize import quantize_float
from ..ops.svdf_math import BIAS, FEATURE, STATE, TIME
from .calibration import CalibrationStats
from .mixed import int16_params
from .weights import quantize_bias

FEATURE_QMAX, TIME_QMAX = 127, 511      # weights_time: 10 bits (operator_property.cc)


def symmetric(t: Tensor, name: str, dtype: str, qmax: int = 0, scale: float = 0.0) -> Tensor:
    """Per-tensor symmetric `dtype` at `scale` (or max|w| / qmax), zero point 0."""
    data = np.asarray(t.data, np.float32)
    if not scale:
        scale = float(np.float32(np.abs(data).max(initial=0.0) / qmax)) or 1.0
    return Tensor(name, t.shape, dtype, quantize_float(data, scale, 0, dtype),
                  QuantParams(scale, 0))


def state_scale(name: str, stats: CalibrationStats, observe) -> float:
    """The int16 state's symmetric scale from the state values seen in calibration."""
    return int16_params(*observe(stats[name]))[0]


def quantize(graph: Graph, op: Op, inputs: list, tensors: dict, stats: CalibrationStats,
             observe) -> Op:
    """SVDF op `op`'s weights, bias and state quantized into `tensors` (`inputs` gains a zero
    bias if the float op had none); returns the op with its integer attributes."""
    src = graph.tensors
    s_state = state_scale(op.inputs[STATE], stats, observe)
    wt = tensors[inputs[TIME]] = symmetric(src[op.inputs[TIME]], inputs[TIME], "int16", TIME_QMAX)
    tensors[inputs[FEATURE]] = symmetric(src[op.inputs[FEATURE]], inputs[FEATURE], "int8",
                                               FEATURE_QMAX)
    state = src[op.inputs[STATE]]
    tensors[inputs[STATE]] = symmetric(state, inputs[STATE], "int16", scale=s_state)
    if inputs[BIAS]:
        b = src[op.inputs[BIAS]]
    else:          # TFLM's integer SVDF reads a bias: zeros
        inputs[BIAS] = _fresh(f"{op.outputs[0]}_bias", tensors)
        units = graph.tensors[op.outputs[0]].shape[-1]
        b = Tensor(inputs[BIAS], (units,), "float32", np.zeros(units, np.float32))
    tensors[inputs[BIAS]] = quantize_bias(b, inputs[BIAS], s_state, np.array([wt.quant.s]))
    return op.replace(attrs=dict(op.attrs, activation="RELU"))


def _fresh(name: str, taken) -> str:
    out, k = name, 1
    while out in taken:
        out, k = f"{name}_{k}", k + 1
    return out
