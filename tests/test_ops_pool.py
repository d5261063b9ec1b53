"""AVERAGE_POOL_2D and MAX_POOL_2D: seeded one-op graphs (filters, strides, paddings, a global
pool as in the KWS model); the int8 reference equals TFLite Micro exactly, float matches TFLM
and LiteRT; the average rounds exact halves away from zero; unequal in/out quantization is
refused."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import oplab
from toolchain.ir import GraphError
from conv_fc_cases import ACTS, run_case, seeded


# (filter, stride, padding); plus a global pool (filter = image) as in the KWS model
POOLS = list(itertools.product(((2, 2), (3, 3), (1, 3), (3, 2), (4, 4)), ((1, 1), (2, 2)),
                               ("SAME", "VALID")))
INT8_POOLS = POOLS + [("global", (1, 1), "VALID"), ("global", (2, 2), "SAME")] + POOLS[::3]
FLOAT_POOLS = POOLS[::2] + [("global", (1, 1), "VALID")]


def pool_graph(kind, index, dtype, case):
    filt, stride, pad = case
    rng = seeded(kind, index, dtype)
    h, w, c = 5 + index % 4, 9 - index % 3, 1 + index % 4
    if filt == "global":
        filt = (h, w)
    stride = (stride[0], stride[1] + (index % 5 == 0))
    attrs = dict(padding=pad, stride=stride, filter=filt, activation=ACTS[index % len(ACTS)])
    x_shape = (2 if index % 6 == 0 else 1, h, w, c)
    if dtype == "float32":
        x = oplab.act("x", x_shape, "float32")
        return oplab.one_op(kind, [x], attrs, oplab.out_like(kind, [x], attrs))
    s, zp = float(rng.uniform(0.01, 0.2)), int(rng.integers(-40, 41))
    x = oplab.act("x", x_shape, scale=s, zp=zp)
    return oplab.one_op(kind, [x], attrs, oplab.out_like(kind, [x], attrs, scale=s, zp=zp))


def pool_id(i, case):
    filt, stride, pad = case
    return f"{i}-f{filt[0] if filt == 'global' else filt}-s{stride[0]}-{pad}"


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("index,case", list(enumerate(INT8_POOLS)),
                         ids=[pool_id(i, c) for i, c in enumerate(INT8_POOLS)])
def test_pool_int8_tflm_exact(kind, index, case):
    run_case(pool_graph(kind, index, "int8", case), seeded(kind, index, "int8"), "int8")


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("index,case", list(enumerate(FLOAT_POOLS)),
                         ids=[pool_id(i, c) for i, c in enumerate(FLOAT_POOLS)])
def test_pool_float_tflm_litert(kind, index, case):
    run_case(pool_graph(kind, index, "float32", case), seeded(kind, index, "float32"),
             "float32")


def test_average_pool_rounds_raw_codes_half_away_from_zero():
    """Windows (1x2 and clipped 1x1 at the SAME border) whose means are exact halves."""
    attrs = dict(padding="SAME", stride=(1, 2), filter=(1, 2))
    x = oplab.act("x", (1, 1, 5, 1), scale=0.1, zp=50)
    out = oplab.out_like("AVERAGE_POOL_2D", [x], attrs, scale=0.1, zp=50)
    graph = oplab.one_op("AVERAGE_POOL_2D", [x], attrs, out)
    values = np.array([-1, -2, 1, 2, -7], np.int8).reshape(1, 1, 5, 1)
    ref, tflm = oplab.run_reference_and_tflm(graph, [values])
    np.testing.assert_array_equal(ref[0].ravel(), [-2, 2, -7])   # -1.5, 1.5, the lone -7
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_pool_requires_equal_quantization(kind):
    attrs = dict(padding="VALID", stride=(1, 1), filter=(2, 2))
    x = oplab.act("x", (1, 4, 4, 1), scale=0.1, zp=3)
    for scale, zp in ((0.1, 4), (0.1001, 3)):
        out = oplab.out_like(kind, [x], attrs, scale=scale, zp=zp)
        with pytest.raises(GraphError, match="quantization"):
            oplab.one_op(kind, [x], attrs, out)
