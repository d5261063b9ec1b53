"""Helpers of the C runtime kernel tests (tests/test_c_kernels_*.py): the support-math shim
library (its session fixture `lib` is in conftest.py), running one op through its C kernel
via ctypes, the exact / close comparison with the reference, and seeded one-op graph builders.
"""
from __future__ import annotations

import ctypes

import numpy as np

import oplab
from oplab import act, assert_close, assert_exact, const, one_op, out_like
from toolchain.backends import cruntime
from toolchain.lowering.ccall import Scratch, TensorRef
from toolchain.ops import registry
from toolchain.ops.registry import Node
from toolchain.arith import fixedpoint as fp
from toolchain.ops.interpreter import run_graph

ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
ARM_FLAGS = {"cortex-m4": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                           "-mfpu=fpv4-sp-d16"],
             "cortex-m0plus": ["-mcpu=cortex-m0plus", "-mthumb"]}
SHIM_FUNCS = {  # name: (inputs, outputs) -- int32 vectors
    "srdhm": 2, "rdbpot": 2, "mbqm": 3, "sat_shl": 2, "rounding_half_sum": 2,
    "exp_on_negative_values": 2, "one_over_one_plus_x": 1, "logistic_q4": 1, "tanh_q4": 1}


def _shim() -> str:
    """C exporting the support header's static inline functions over int32 vectors."""
    lines = ['#include "fitml/fitml.h"', '#include "fitml/fitml_support.h"']
    for name, n_in in SHIM_FUNCS.items():
        ins = ", ".join(f"const int32_t *a{i}" for i in range(n_in))
        sig = f"void t_{name}({ins}, int32_t *out, int32_t n)"
        call = ", ".join(f"a{i}[i]" for i in range(n_in))
        lines += [f"{sig};", sig + " {", "    int32_t i;",
                  f"    for (i = 0; i < n; i++) out[i] = fitml_{name}({call});", "}"]
    sig = "void t_reciprocal(const int32_t *x, int32_t *out, int32_t *bits, int32_t n)"
    lines += [f"{sig};", sig + " {", "    int32_t i;",
              "    for (i = 0; i < n; i++) out[i] = fitml_reciprocal(x[i], 12, &bits[i]);", "}"]
    return "\n".join(lines) + "\n"


def shim_library(out):
    """The runtime as a host shared library with UBSan, plus the support-math shim."""
    shim = out / "shim.c"
    shim.write_text(_shim())
    return ctypes.CDLL(str(cruntime.build_host_library(out, extra_sources=[shim])))


def vec(lib, name, *args, n_out=1):
    """Run shim function t_<name> over int32 vectors; returns the int64 output(s)."""
    ins = [np.ascontiguousarray(np.broadcast_to(a, np.shape(args[0])), np.int32).ravel()
           for a in args]
    outs = [np.zeros(ins[0].size, np.int32) for _ in range(n_out)]
    getattr(lib, f"t_{name}")(*[ctypes.c_void_p(a.ctypes.data) for a in ins + outs],
                              ctypes.c_int32(ins[0].size))
    return outs[0].astype(np.int64) if n_out == 1 else [o.astype(np.int64) for o in outs]


def lower(node):
    return registry.get(node.op.kind).lower_c(node)


def run_c(lib, graph, inputs, rng):
    """Run the graph's single op through its C kernel; returns the output array."""
    node = Node.of(graph, graph.ops[0])
    call = lower(node)
    values = {n: t.data for n, t in graph.tensors.items() if t.is_const}
    values.update({n: np.ascontiguousarray(v) for n, v in zip(graph.inputs, inputs)})
    out_t = node.outs[0]
    out = np.frombuffer(rng.bytes(max(out_t.nbytes, 1)), np.uint8)[:out_t.nbytes].copy()
    values[out_t.name] = out.view(np.dtype(out_t.dtype)).reshape(out_t.shape)
    params, keep = cruntime.to_ctypes(call.params_type, call.params, values.__getitem__)
    args = [ctypes.byref(params)]
    for a in call.args:
        if isinstance(a, TensorRef):
            args.append(ctypes.c_void_p(values[a.name].ctypes.data))
        elif isinstance(a, Scratch):
            buf = np.frombuffer(rng.bytes(call.scratch_bytes + 4), np.uint8).copy()
            keep.append(buf)
            args.append(ctypes.c_void_p(buf.ctypes.data if call.scratch_bytes else None))
        else:
            args.append((ctypes.c_void_p * len(a))(*[values[t.name].ctypes.data for t in a]))
    size_fn = getattr(lib, f"{call.kernel}_scratch_size", None) if Scratch() in call.args \
        else None
    if size_fn is not None:
        size_fn.restype = ctypes.c_size_t
        assert size_fn(ctypes.byref(params)) == call.scratch_bytes
    status = getattr(lib, call.kernel)(*args)
    assert status == 0, f"{call.kernel} returned status {status}"
    return values[out_t.name]


def check(lib, graph, rng, atol=1e-5, inputs=None, label="", exact=False):
    """C kernel vs reference: exact for integers (and with `exact`), else within `atol`."""
    inputs = oplab.random_inputs(graph, rng) if inputs is None else inputs
    want = run_graph(graph, inputs)[0]
    got = run_c(lib, graph, inputs, rng)
    if want.dtype.kind == "f" and not exact:
        assert_close(want, got, atol * max(1.0, float(np.abs(want).max(initial=0))), label)
    else:
        assert_exact(want, got, label)


EDGES = np.array([fp.INT32_MIN, fp.INT32_MIN + 1, -(1 << 30) - 1, -(1 << 30), -65536, -3, -2,
                  -1, 0, 1, 2, 3, 65535, 1 << 30, (1 << 30) + 1, fp.INT32_MAX - 1, fp.INT32_MAX],
                 np.int64)


def quant_x(rng, shape, dtype="int8"):
    if dtype == "float32":
        return act("x", shape, "float32")
    return act("x", shape, "int8", float(rng.uniform(0.01, 0.1)), int(rng.integers(-40, 41)))


def weighted(rng, dtype, kind, x, w_shape, axis, attrs, per_channel, bias):
    """A conv-like op with int8 symmetric weights and an output scale that uses the range."""
    cout = w_shape[axis]
    taps = int(np.prod(w_shape)) // cout
    if dtype == "float32":
        w = const("w", (rng.standard_normal(w_shape) / np.sqrt(taps)).astype(np.float32))
        b = const("b", rng.standard_normal(cout).astype(np.float32)) if bias else None
        ins = [x, w, b] if b is not None or kind == "FULLY_CONNECTED" else [x, w]
        return one_op(kind, ins, attrs, out_like(kind, ins, attrs))
    s_w = rng.uniform(0.002, 0.02, cout if per_channel else 1).astype(np.float32)
    w = const("w", rng.integers(-127, 128, w_shape).astype(np.int8), scale=s_w,
              axis=axis if per_channel else None)
    acc_std = 74.0 * 127 * 0.58 * np.sqrt(taps)
    b = None
    if bias:
        b = const("b", rng.integers(-acc_std, acc_std + 1, cout).astype(np.int32),
                  scale=np.float32(x.quant.s) * s_w, axis=0 if per_channel else None)
    ins = [x, w, b] if b is not None or kind == "FULLY_CONNECTED" else [x, w]
    s_out = float(x.quant.s * s_w.mean() * acc_std / rng.uniform(20, 60))
    out = out_like(kind, ins, attrs, scale=s_out, zp=int(rng.integers(-30, 31)))
    return one_op(kind, ins, attrs, out)


def conv_graph(rng, dtype, x_shape, cout, k, stride, dil, pad, groups, act_name="NONE",
               per_channel=True, bias=True):
    attrs = dict(padding=pad, stride=stride, dilation=dil, activation=act_name)
    w_shape = (cout, *k, x_shape[3] // groups)
    return weighted(rng, dtype, "CONV_2D", quant_x(rng, x_shape, dtype), w_shape, 0, attrs,
                    per_channel, bias)


def spatial(rng):
    """(x spatial, kernel, stride, dilation, padding) with a non-empty output."""
    while True:
        k = tuple(int(v) for v in rng.choice([1, 2, 3, 5], 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        dil = tuple(int(v) for v in rng.integers(1, 3, 2))
        pad = str(rng.choice(["SAME", "VALID"]))
        hw = tuple(int(v) for v in rng.integers(1, 12, 2))
        eff = [(kk - 1) * d + 1 for kk, d in zip(k, dil)]
        if pad == "SAME" or all(s >= e for s, e in zip(hw, eff)):
            return hw, k, stride, dil, pad
