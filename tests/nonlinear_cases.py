"""One-op SOFTMAX and MEAN graphs and the checks of the nonlinear-op tests
(tests/test_ops_softmax.py, test_ops_logistic_tanh_mean.py): int8 reference == TFLite Micro
exactly; float reference within 1e-5 (relative) of LiteRT and TFLM, every offending index
listed."""
from __future__ import annotations

import numpy as np
import oplab
from oplab import act, const, one_op, out_like


def run_exact(graph, inputs):
    """Reference and TFLM agree exactly on every output; returns the reference outputs."""
    ref, tflm = oplab.run_reference_and_tflm(graph, inputs)
    for i, (want, got) in enumerate(zip(ref, tflm)):
        oplab.assert_exact(want, np.asarray(got).reshape(want.shape), f"tflm output {i}")
    return ref


def assert_rel_close(want, got, label, rtol=1e-5):
    """|got - want| <= rtol * |want| everywhere; a failure lists every offending index."""
    want, got = np.asarray(want), np.asarray(got).reshape(np.shape(want))
    far = ~(np.abs(got.astype(np.float64) - want) <= rtol * np.abs(want.astype(np.float64)))
    if far.any():
        raise AssertionError(f"{label}: beyond rtol={rtol}: "
                             + oplab.mismatch_report(np.where(far, want, 0),
                                                     np.where(far, got, 0)))


def run_float(graph, inputs):
    """Float reference vs LiteRT and TFLM, relative tolerance 1e-5."""
    ref, tflm, litert = oplab.run_litert_too(graph, inputs)
    for name, outs in (("litert", litert), ("tflm", tflm)):
        assert_rel_close(ref[0], outs[0], name)


def softmax_graph(shape, s_in, zp_in, beta, s_out=1 / 256, zp_out=-128):
    x = act("x", shape, "int8", s_in, zp_in)
    return one_op("SOFTMAX", [x], {"beta": beta}, act("out", shape, "int8", s_out, zp_out))


def mean_graph(shape, axes, keep, s_in, zp_in, s_out, zp_out, dtype="int8"):
    x = act("x", shape, dtype, s_in, zp_in) if dtype == "int8" else act("x", shape, dtype)
    ax = const("axes", np.array(axes, np.int32))
    attrs = {"keep_dims": keep}
    out = out_like("MEAN", [x, ax], attrs, scale=s_out, zp=zp_out)
    return one_op("MEAN", [x, ax], attrs, out)
