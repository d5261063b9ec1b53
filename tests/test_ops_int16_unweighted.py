"""int16 ops without weights: ADD, SUB, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN, QUANTIZE to and from
int16 and the byte-moving RESHAPE, PAD, TRANSPOSE, CONCATENATION; the numpy reference equals
TFLite Micro exactly on the seeded graphs of tests/int16_cases.py."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from int16_cases import (ACTS, POOL_CASES, QUANTIZE_CASES, data_graphs, mean_graph, pool_graph,
                         quantize_graph)


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
def test_add_sub_int16_tflm_exact(kind):
    rng = np.random.default_rng([16, 4, kind == "SUB"])
    shapes = [((1, 5, 6, 3), (1, 5, 6, 3)), ((2, 4, 1, 3), (1, 1, 5, 3)), ((7, 6), (6,))]
    scales = [(1 / 4096, 1 / 3000, 1 / 2048), (3e-4, 1e-4, 2e-4), (1 / 4096,) * 3,
              (2e-5, 5e-4, 1e-3)]
    for i, ((sa, sb), (s1, s2, so), act) in enumerate(
            zip(shapes * 4, scales * 3, ACTS * 3)):
        a = oplab.act("a", sa, "int16", scale=s1)
        b = oplab.act("b", sb, "int16", scale=s2)
        attrs = dict(activation=act)
        out = oplab.out_like(kind, [a, b], attrs, scale=so, zp=0)
        oplab.check_tflm(oplab.one_op(kind, [a, b], attrs, out), rng)


@pytest.mark.parametrize("kind", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("index", range(len(POOL_CASES)))
def test_pool_int16_tflm_exact(kind, index):
    rng = np.random.default_rng([16, 5, index, kind == "MAX_POOL_2D"])
    for act in ACTS:
        oplab.check_tflm(pool_graph(kind, index, act), rng)


@pytest.mark.parametrize("axes,keep,s_out", [([1, 2], True, 1 / 3000), ([2], False, 1 / 1000),
                                             ([-1, 0], False, 1 / 2000), ([3], True, 1 / 9000)])
def test_mean_int16_tflm_exact(axes, keep, s_out):
    oplab.check_tflm(mean_graph(axes, keep, s_out), np.random.default_rng([16, 6, len(axes)]))


@pytest.mark.parametrize("case", QUANTIZE_CASES, ids=lambda c: f"{c[0]}-{c[3]}-{c[4]:.3g}")
def test_quantize_int16_tflm_exact(case):
    oplab.check_tflm(quantize_graph(*case), np.random.default_rng([16, 7, QUANTIZE_CASES.index(
        case)]))


def test_data_movement_int16_tflm_exact():
    rng = np.random.default_rng([16, 8])
    for kind, graph in data_graphs():
        oplab.check_tflm(graph, rng)
