"""SVDF's shapes and arithmetic as TFLite Micro computes it (svdf_common.cc), for the numpy
reference and the C lowering alike.

Every step shifts the state [batch, filters, memory] one frame left, writes the feature
projection of the input into the last frame, filters each row in time (dot with weights_time)
and sums each unit's `rank` filters (+ bias). int8: the projection is requantized into the
int16 state (effective scale 1: s_in * s_feature / s_state), the output from the int32 sum
(effective scale 2: s_state * s_time / s_out), with no fused activation (TFLM applies none).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arith import fixedpoint as fp
from ..ir import GraphError
from . import common

KIND = "SVDF"
INPUT, FEATURE, TIME, BIAS, STATE = range(5)
CLAMPS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


@dataclass(frozen=True)
class Sizes:
    batch: int
    input_size: int
    filters: int
    memory: int
    rank: int

    @property
    def units(self) -> int:
        return self.filters // self.rank


def sizes(op, ins) -> Sizes:
    """The SVDF's dimensions, or a GraphError naming what does not fit TFLM's shape rules."""
    x = common.need(ins[INPUT], "input", KIND)
    wf = common.need(ins[FEATURE] if len(ins) > FEATURE else None, "weights_feature", KIND)
    wt = common.need(ins[TIME] if len(ins) > TIME else None, "weights_time", KIND)
    rank = int(op.attr("rank", 0))
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2:
        raise GraphError(f"{KIND}: input, weights_feature and weights_time must be 2-D, got "
                         f"{list(x.shape)}, {list(wf.shape)}, {list(wt.shape)}")
    n = Sizes(x.shape[0], x.shape[1], wf.shape[0], wt.shape[1], rank)
    if rank <= 0 or n.filters % rank:
        raise GraphError(f"{KIND}: rank {rank} must be positive and divide the "
                         f"{n.filters} filters of weights_feature")
    if wf.shape[1] != n.input_size or wt.shape[0] != n.filters or n.memory <= 0:
        raise GraphError(f"{KIND}: weights_feature {list(wf.shape)} and weights_time "
                         f"{list(wt.shape)} do not fit input {list(x.shape)}")
    return n


def shifted(state: np.ndarray, n: Sizes) -> np.ndarray:
    """The state as [batch, filters, memory], moved one frame left (last frame: stale)."""
    s = np.asarray(state).reshape(n.batch, n.filters, n.memory)
    return np.concatenate([s[:, :, 1:], s[:, :, -1:]], axis=2)


def float_step(x, wf, wt, bias, state, n: Sizes, act: str):
    """(output, new state) in float32, summing in TFLM's order."""
    s = shifted(state, n).astype(np.float32)
    x, wf, wt = (np.asarray(a, np.float32) for a in (x, wf, wt))
    proj = np.zeros((n.batch, n.filters), np.float32)
    for k in range(n.input_size):
        proj = proj + x[:, None, k] * wf[None, :, k]
    s[:, :, -1] = proj
    per_filter = np.zeros((n.batch, n.filters), np.float32)
    for m in range(n.memory):
        per_filter = per_filter + s[:, :, m] * wt[None, :, m]
    out = np.zeros((n.batch, n.units), np.float32) if bias is None else \
        np.broadcast_to(np.asarray(bias, np.float32), (n.batch, n.units)).copy()
    grouped = per_filter.reshape(n.batch, n.units, n.rank)
    for r in range(n.rank):
        out = out + grouped[:, :, r]
    return common.float_clamp(out, act).astype(np.float32), s.reshape(np.shape(state))


@dataclass(frozen=True)
class Int8Params:
    input_zp: int
    state_zp: int
    output_zp: int
    feature: tuple[int, int]     # effective scale 1 as (multiplier, shift)
    output: tuple[int, int]      # effective scale 2


def int8_params(ins, out) -> Int8Params:
    """TFLM's PrepareSvdf: the effective scales from float32 products, as double."""
    f32 = np.float32
    s_in, s_wf, s_wt = (f32(ins[i].quant.s) for i in (INPUT, FEATURE, TIME))
    s_state, s_out = f32(ins[STATE].quant.s), f32(out.quant.s)
    scale1 = float(f32(s_in * s_wf) / s_state)
    scale2 = float(f32(s_state * s_wt) / s_out)
    return Int8Params(ins[INPUT].quant.zp, ins[STATE].quant.zp, out.quant.zp,
                      fp.quantize_multiplier(scale1), fp.quantize_multiplier(scale2))


def int8_step(x, wf, wt, bias, state, n: Sizes, p: Int8Params):
    """(int8 output, int16 new state): EvalIntegerSvdfReference<int16_t>."""
    s = shifted(state, n).astype(np.int64)
    acc = fp.wrap32((np.asarray(x, np.int64) - p.input_zp) @ np.asarray(wf, np.int64).T)
    proj = fp.mbqm(acc, *p.feature) + p.state_zp
    s[:, :, -1] = np.clip(proj, -32768, 32767)
    per_filter = fp.wrap32(((s - p.state_zp) * np.asarray(wt, np.int64)[None]).sum(axis=2))
    total = per_filter.reshape(n.batch, n.units, n.rank).sum(axis=2)
    if bias is not None:
        total = total + np.asarray(bias, np.int64)[None]
    out = fp.mbqm(fp.wrap32(total), *p.output) + p.output_zp
    return (np.clip(out, -128, 127).astype(np.int8),
            s.astype(np.int16).reshape(np.shape(state)))
