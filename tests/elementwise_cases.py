"""Helpers of the element-wise op tests (tests/test_ops_elementwise_*.py): one-op graph
builders, the scales and shapes they sweep, and the comparison with TFLite Micro (and LiteRT)."""
from __future__ import annotations

import numpy as np

import oplab

A = oplab.act
ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
# (s1, s2, s_out): input scales far apart either way, equal, output finer / coarser
SCALES = [(0.5, 0.004, 0.3), (0.003, 0.4, 0.2), (0.05, 0.05, 0.05), (0.1, 0.08, 0.012),
          (0.02, 0.03, 0.5)]
SHAPES = [((1, 4, 4, 8), (1, 4, 4, 8)), ((1, 4, 4, 8), (1, 1, 1, 8)), ((2, 3, 1), (3, 4)),
          ((1,), (2, 5)), ((1, 1, 1, 1), (1, 3, 3, 4)), ((2, 1, 3, 1, 4), (1, 2, 1, 5, 1))]
GRID = np.arange(-128, 128)


def binary(kind, sa, sb, dtype="int8", q1=(0.05, 0), q2=(0.05, 0), qo=(0.05, 0), act="NONE"):
    """One-op graph `kind(x, y)` with per-tensor params (scale, zp) for integer dtypes."""
    quant = dtype in ("int8", "int16")
    x = A("x", sa, dtype, *(q1 if quant else (None, None)))
    y = A("y", sb, dtype, *(q2 if quant else (None, None)))
    out = A("out", np.broadcast_shapes(sa, sb), dtype, *(qo if quant else (None, None)))
    return oplab.one_op(kind, [x, y], {"activation": act}, out)


def unary(kind, shape, dtype, out_dtype, qi=(None, None), qo=(None, None), attrs=None):
    return oplab.one_op(kind, [A("x", shape, dtype, *qi)], attrs or {},
                        A("out", shape, out_dtype, *qo))


def assert_tflm(graph, inputs, litert=False, atol=1e-5):
    """Reference == TFLM (exact for integers; floats within atol), optionally LiteRT too."""
    runs = (oplab.run_litert_too if litert else oplab.run_reference_and_tflm)(graph, inputs)
    ref = runs[0][0]
    for name, outs in zip(("tflm", "litert"), runs[1:]):
        got = np.asarray(outs[0]).reshape(ref.shape)
        if ref.dtype.kind == "f":
            oplab.assert_close(ref, got, atol, name)
        else:
            oplab.assert_exact(ref, got, name)
    return ref

