"""Activation quantization parameters: per-tensor asymmetric int8 from calibrated ranges.

Tensors that int8 kernels require to share (scale, zp) are tied into groups (pooling, data
movement, CONCATENATION where it can, the inputs of ADD_N); SOFTMAX, LOGISTIC, TANH and
L2_NORMALIZATION outputs get TFLite's fixed params. Each group's range is the union of its
members' observed ranges; ADD/SUB outputs too narrow for TFLite Micro are widened and CUMSUM
inputs made symmetric (TFLM sums from -zp_in). Edges that cannot share are requantized instead.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, UsageError
from ..ir import Graph
from . import observers
from .calibration import CalibrationStats
from .weights import is_param

# int8 kernels that read raw codes: the output (and PADV2's fill) shares the input's params
SAME_PARAMS = {"AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "PAD",
               "PADV2", "TRANSPOSE", "STRIDED_SLICE", "SLICE", "RELU6", "REDUCE_MAX",
               "GATHER_ND", "MIRROR_PAD", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND",
               "BROADCAST_TO", "FILL"}
# ops whose raw-copied operands are not input 0: FILL copies its value (input 1)
TIED_INPUTS = {"PADV2": [0, 2], "FILL": [1]}
FIXED_OUTPUT = {"SOFTMAX": (1.0 / 256, -128), "LOGISTIC": (1.0 / 256, -128),
                "TANH": (1.0 / 128, 0), "L2_NORMALIZATION": (1.0 / 128, 0)}


class _Groups:
    """Union-find over activations that must share (scale, zp); a group may be fixed."""

    def __init__(self, names):
        self.parent = {n: n for n in names}
        self.fixed: dict[str, tuple[float, int]] = {}

    def find(self, n: str) -> str:
        while self.parent[n] != n:
            self.parent[n] = n = self.parent[self.parent[n]]
        return n

    def tie(self, a: str, b: str) -> bool:
        """Join the groups of a and b; False (nothing joined) if both are fixed differently."""
        ra, rb = self.find(a), self.find(b)
        fa, fb = self.fixed.get(ra), self.fixed.get(rb)
        if fa and fb and fa != fb:
            return False
        self.parent[rb] = ra
        if fb:
            self.fixed[ra] = fb
        return True


def _tie_groups(graph: Graph, names: list[str]):
    """Groups of tensors sharing params, and the (op, input k) edges requantized instead.

    A CONCATENATION mixing fixed-param inputs (SOFTMAX, LOGISTIC, TANH outputs) with other
    params requantizes its fixed inputs into one range covering every input.
    """
    groups = _Groups(names)
    for op in graph.ops:
        if op.kind in FIXED_OUTPUT:
            groups.fixed[op.outputs[0]] = FIXED_OUTPUT[op.kind]
    requant = set()
    for i, op in enumerate(graph.ops):
        if op.kind == "CONCATENATION":
            fixed = [groups.fixed.get(groups.find(n)) for n in op.inputs]
            mixed = len(set(fixed)) > 1
            tied = [k for k, f in enumerate(fixed) if not (mixed and f)]
            requant |= {(i, k) for k in range(len(op.inputs)) if k not in tied}
        elif op.kind == "ADD_N":
            _tie_add_n(groups, i, op)
            tied = []
        else:
            tied = TIED_INPUTS.get(op.kind, [0] if op.kind in SAME_PARAMS else [])
        for k in tied:
            if k < len(op.inputs) and op.inputs[k] and not groups.tie(op.outputs[0],
                                                                       op.inputs[k]):
                requant.add((i, k))
    return groups, requant


def _tie_add_n(groups: _Groups, i: int, op) -> None:
    """int8 ADD_N needs one (scale, zp) for all its inputs (TFLM checks it): tie them. A fixed
    output range (SOFTMAX, ...) among other inputs would squeeze them all into it: refused."""
    fixed = {groups.fixed.get(groups.find(n)) for n in op.inputs}
    if len(fixed) > 1:
        raise ModelError(f"quantize: op {i} (ADD_N, output {op.outputs[0]!r}) adds outputs of "
                         f"fixed range ({', '.join(sorted(FIXED_OUTPUT))}) to other tensors; "
                         "int8 ADD_N needs one scale for every input")
    for n in op.inputs[1:]:
        groups.tie(op.inputs[0], n)


def activation_params(graph: Graph, stats: CalibrationStats, observe, ranges_out=None):
    """({tensor: (scale, zp)} for every int8 activation, {(op, input k) needing requant});
    `ranges_out` (a dict), if given, receives each tensor's group range [lo, hi]."""
    names = [n for n, t in graph.tensors.items() if t.dtype == "float32" and not t.is_const]
    names += sorted({n for op in graph.ops for k, n in enumerate(op.inputs) if n
                     and graph.tensors[n].is_const and graph.tensors[n].dtype == "float32"
                     and not is_param(op.kind, k)})
    groups, requant = _tie_groups(graph, names)
    observed = {}
    for n in names:
        t = graph.tensors[n]
        if t.is_const:
            observed[n] = float(np.min(t.data, initial=0.0)), float(np.max(t.data, initial=0.0))
        elif n in stats.tensors:
            observed[n] = observe(stats[n])
        else:
            raise UsageError(f"quantize: calibration statistics have no tensor {n!r} "
                             "(gathered on another graph?)")
    ranges: dict[str, list[float]] = {}
    for n, (lo, hi) in [*observed.items(), *((graph.ops[i].outputs[0], observed[
            graph.ops[i].inputs[k]]) for i, k in requant)]:
        r = ranges.setdefault(groups.find(n), [lo, hi])
        r[0], r[1] = min(r[0], lo), max(r[1], hi)
    _center_cumsum_inputs(graph, groups, ranges)
    params = {}
    for _ in range(8):                           # widen ADD/SUB outputs TFLM would reject
        group_params = {g: groups.fixed.get(g) or observers.choose_params(*r)
                        for g, r in ranges.items()}
        params = {n: group_params[groups.find(n)] for n in names}
        if not _widen_addsub(graph, params, groups, ranges):
            if ranges_out is not None:
                ranges_out.update({n: tuple(ranges[groups.find(n)]) for n in names})
            return params, requant
    raise ModelError("quantize: could not find ADD/SUB output scales TFLite Micro accepts")


def _center_cumsum_inputs(graph, groups, ranges) -> None:
    """TFLM's int8 CUMSUM starts each sum at -zp_in (in input steps) instead of 0: a range
    symmetric about 0 gives its input a zero point of 0 or -1, so that error is one step."""
    for op in graph.ops:
        g = groups.find(op.inputs[0]) if op.kind == "CUMSUM" else None
        if g in ranges and g not in groups.fixed:
            m = max(abs(ranges[g][0]), abs(ranges[g][1]))
            ranges[g] = [-m, m]


def _widen_addsub(graph, params, groups, ranges) -> bool:
    """ADD/SUB need 2*max(s1, s2) / (2^20 * s_out) < 1: stretch too-narrow output ranges."""
    changed = False
    for op in graph.ops:
        if op.kind not in ("ADD", "SUB"):
            continue
        need = 2.0 * max(params[op.inputs[0]][0], params[op.inputs[1]][0]) / (1 << 20)
        g = groups.find(op.outputs[0])
        if params[op.outputs[0]][0] <= need * 1.001 and g not in groups.fixed:
            factor = need * 1.01 / params[op.outputs[0]][0]
            ranges[g] = [ranges[g][0] * factor, ranges[g][1] * factor]
            changed = True
    return changed
