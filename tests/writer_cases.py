"""Seeded CONV_2D one-op graphs (int8 per-channel or float; with, without or with an absent
bias; int4 filters, groups) for the .tflite writer tests (tests/test_tflite_writer_*.py,
tests/test_litert_default_resolver.py)."""
from __future__ import annotations

import numpy as np

import oplab


def conv_graph(rng, x_shape=(1, 9, 8, 3), cout=4, k=(3, 3), dtype="int8", bias="yes",
               w_dtype=None, groups=1, **attrs):
    """A seeded CONV_2D graph: per-channel symmetric weights, int32 bias at s_in * s_w.

    bias: "yes"; "absent" (third input "", written as index -1); "none" (two inputs).
    """
    attrs = dict(dict(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE"),
                 **attrs)
    w_shape = (cout, *k, x_shape[3] // groups)
    if dtype == "float32":
        x = oplab.act("x", x_shape, "float32")
        w = oplab.const("w", rng.standard_normal(w_shape).astype(np.float32))
        b = oplab.const("b", rng.standard_normal(cout).astype(np.float32))
        out = oplab.out_like("CONV_2D", [x, w, b], attrs)
        return oplab.one_op("CONV_2D", [x, w, b], attrs, out)
    s_in = 0.07
    x = oplab.act("x", x_shape, scale=s_in, zp=int(rng.integers(-20, 20)))
    lim = 7 if w_dtype == "int4" else 127
    s_w = rng.uniform(0.002, 0.02, cout).astype(np.float32)
    w = oplab.const("w", rng.integers(-lim, lim + 1, w_shape).astype(np.int8), scale=s_w,
                    axis=0, dtype=w_dtype)
    b = oplab.const("b", rng.integers(-3000, 3000, cout).astype(np.int32),
                    scale=np.float32(s_in) * s_w, axis=0)
    ins = {"yes": [x, w, b], "absent": [x, w, None], "none": [x, w]}[bias]
    out = oplab.out_like("CONV_2D", ins, attrs, scale=0.15, zp=int(rng.integers(-10, 10)))
    return oplab.one_op("CONV_2D", ins, attrs, out)
