"""The C runtime (runtime_c/) kernel by kernel, called through ctypes, vs the numpy reference.

The runtime is built once per session as a host shared library with UBSan (any undefined
behaviour aborts). Each case is a seeded one-op graph: the kernel gets the parameters the op
file's `lower_c` derives, and its output must equal the reference's exactly (int8, and the
hybrid float32 x int8 kernels) or within a float tolerance (float32, summation order
differs). The support math is compared with
`quant.fixedpoint` / `quant.gemmlowp` on edge values, and every source is compiled warning-free
for the host and for Cortex-M4F / M0+.
"""
from __future__ import annotations

import ctypes
import platform
import shutil
import subprocess

import numpy as np
import pytest

import oplab
from oplab import act, assert_close, assert_exact, const, one_op, out_like
from toolchain.backends import cruntime
from toolchain.lowering.ccall import Scratch, TensorRef
from toolchain.lowering.cvariant import plain_layouts
from toolchain.ops import hybrid, registry
from toolchain.ops.registry import Node
from toolchain.arith import fixedpoint as fp
from toolchain.arith import gemmlowp as gl
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


@pytest.fixture(scope="session")
def lib(tmp_path_factory):
    out = tmp_path_factory.mktemp("cruntime")
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


# ---------------------------------------------------------------------- build and layout

def test_every_source_compiles_warning_free_for_host_and_cortex_m(tmp_path):
    sources = [str(s) for s in cruntime.runtime_sources()]
    compilers = [("gcc", ["-O2"])] + [("arm-none-eabi-gcc", ["-O2", *f])
                                      for f in ARM_FLAGS.values()]
    for cc, flags in compilers:
        if shutil.which(cc) is None:
            pytest.fail(f"{cc} not installed")
        out = tmp_path / cc / flags[-1].strip("-=")
        out.mkdir(parents=True)
        cmd = [cc, *cruntime.C99_WARNINGS, *flags, f"-I{cruntime.include_dir()}", "-c",
               *sources]
        result = subprocess.run(cmd, cwd=out, capture_output=True, text=True)
        assert result.returncode == 0 and not result.stderr, f"{cmd}\n{result.stderr}"
        if cc == "gcc":
            continue
        for obj in sorted(out.glob("*.o")):   # no libm and no soft double in int8 kernels
            undef = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)], capture_output=True,
                                   text=True, check=True).stdout.split()
            # hybrid kernels derive LiteRT's asymmetric zero point in double, once per batch
            doubles = [u for u in undef if u.startswith("__aeabi_d") and "hybrid" not in obj.stem]
            assert not doubles, f"{obj.name} uses double arithmetic: {doubles}"
            if "f32" not in obj.stem:
                bad = [u for u in undef if u not in ("U", "memcpy", "memset")
                       and not u.startswith("__aeabi_") and u != "__clzsi2"]
                assert not bad, f"{obj.name} (int8) needs {bad}"


def test_struct_layout_matches_header(tmp_path):
    names = sorted(cruntime.STRUCTS) + sorted(cruntime.ALIASES)
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "fitml/fitml.h"',
             "int main(void) {"]
    expected = []
    for s in names:
        cls = cruntime.ctypes_struct(s)
        lines.append(f'    printf("%zu\\n", sizeof({s}));')
        expected.append((s, ctypes.sizeof(cls)))
        for field, _ in cruntime.struct_fields(s):
            lines.append(f'    printf("%zu\\n", offsetof({s}, {field}));')
            expected.append((f"{s}.{field}", getattr(cls, field).offset))
    (tmp_path / "layout.c").write_text("\n".join(lines + ["    return 0;", "}"]) + "\n")
    subprocess.run(["gcc", "-std=c99", f"-I{cruntime.include_dir()}", "layout.c", "-o",
                    "layout"], cwd=tmp_path, check=True)
    got = subprocess.run([str(tmp_path / "layout")], capture_output=True, text=True,
                         check=True).stdout.split()
    bad = [(what, want, int(g)) for (what, want), g in zip(expected, got) if want != int(g)]
    assert len(got) == len(expected) and not bad, f"(field, ctypes, C): {bad}"


def test_status_on_bad_arguments(lib):
    assert lib.fitml_conv_s8(None, None, None, None) == 1                # FITML_ERR_ARGUMENT
    rng = np.random.default_rng(7)
    graph = conv_graph(rng, "int8", (1, 5, 5, 2), 3, (3, 3), (1, 1), (1, 1), "SAME", 1)
    call = lower(Node.of(graph, graph.ops[0]))
    params, _ = cruntime.to_ctypes(call.params_type, call.params,
                                   lambda n: graph.tensors[n].data)
    x, y = np.zeros(50, np.int8), np.zeros(75, np.int8)
    assert lib.fitml_conv_s8(ctypes.byref(params), x.ctypes.data_as(ctypes.c_void_p),
                             y.ctypes.data_as(ctypes.c_void_p), None) == 3  # FITML_ERR_SCRATCH
    bc = cruntime.ctypes_struct("fitml_binary_f32_params")()
    bc.bc.rank = 7
    assert lib.fitml_add_f32(ctypes.byref(bc), x.ctypes.data_as(ctypes.c_void_p),
                             x.ctypes.data_as(ctypes.c_void_p),
                             y.ctypes.data_as(ctypes.c_void_p)) == 2  # FITML_ERR_UNSUPPORTED


# ---------------------------------------------------------------------- support math

EDGES = np.array([fp.INT32_MIN, fp.INT32_MIN + 1, -(1 << 30) - 1, -(1 << 30), -65536, -3, -2,
                  -1, 0, 1, 2, 3, 65535, 1 << 30, (1 << 30) + 1, fp.INT32_MAX - 1, fp.INT32_MAX],
                 np.int64)


def test_srdhm_rdbpot_mbqm_match_fixedpoint(lib):
    rng = np.random.default_rng(11)
    a, b = np.meshgrid(EDGES, EDGES)
    a = np.concatenate([a.ravel(), rng.integers(fp.INT32_MIN, fp.INT32_MAX, 100000)])
    b = np.concatenate([b.ravel(), rng.integers(fp.INT32_MIN, fp.INT32_MAX, 100000)])
    assert_exact(fp.srdhm(a, b), vec(lib, "srdhm", a, b), "srdhm")
    assert_exact(fp.rounding_half_sum(a, b), vec(lib, "rounding_half_sum", a, b), "half sum")
    for e in range(32):
        assert_exact(fp.rdbpot(a, e), vec(lib, "rdbpot", a, e), f"rdbpot e={e}")
    for k in range(-31, 32):
        assert_exact(fp.sat_shl(a, k), vec(lib, "sat_shl", a, k), f"sat_shl k={k}")
    mult = rng.integers(1 << 30, 1 << 31, a.size)
    mult[:EDGES.size] = [0, 1 << 30, fp.INT32_MAX] * 5 + [1 << 30, fp.INT32_MAX]
    for s in range(-31, 31):
        x = a if s <= 0 else np.clip(a, -(1 << (31 - s)), (1 << (31 - s)) - 1) + a % 7
        assert_exact(fp.mbqm(x, mult, s), vec(lib, "mbqm", x, mult, s), f"mbqm s={s}")


def test_gemmlowp_transcendentals_match(lib):
    rng = np.random.default_rng(12)
    neg = np.concatenate([[0, -1, fp.INT32_MIN, fp.INT32_MIN + 1, -(1 << 26), -(1 << 27)],
                          rng.integers(fp.INT32_MIN, 1, 100000)])
    for bits in range(1, 6):
        assert_exact(gl.exp_on_negative_values(neg, bits),
                     vec(lib, "exp_on_negative_values", neg, bits), f"exp I={bits}")
    unit = np.concatenate([[0, 1, fp.INT32_MAX], rng.integers(0, fp.INT32_MAX, 100000)])
    assert_exact(gl.one_over_one_plus_x(unit), vec(lib, "one_over_one_plus_x", unit), "1/1+x")
    q4 = np.concatenate([[0, 1, -1], rng.integers(-(15 << 27), 15 << 27, 100000)])
    assert_exact(gl.logistic(q4, 4), vec(lib, "logistic_q4", q4), "logistic")
    assert_exact(gl.tanh(q4, 4), vec(lib, "tanh_q4", q4), "tanh")
    sums = np.concatenate([[1, 1 << 19, fp.INT32_MAX], rng.integers(1 << 18, 1 << 31, 20000)])
    recip, bits = gl.get_reciprocal(sums, 12)
    got, got_bits = vec(lib, "reciprocal", sums, n_out=2)
    assert_exact(recip, got, "reciprocal")
    assert_exact(bits, got_bits, "bits over unit")


# ---------------------------------------------------------------------- graph builders

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


# ---------------------------------------------------------------------- ops

@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_conv(lib, dtype):
    rng = np.random.default_rng([1, dtype == "int8"])
    for i in range(30):
        (h, w), k, stride, dil, pad = spatial(rng)
        if i % 6 == 0:        # the in-place 1x1 path
            k, pad = (1, 1), "VALID"
        groups = int(rng.choice([1, 1, 2, 3]))
        cin = groups * int(rng.integers(1, 5))
        cout = groups * int(rng.integers(1, 5))
        graph = conv_graph(rng, dtype, (int(rng.integers(1, 3)), h, w, cin), cout, k, stride,
                           dil, pad, groups, ACTS[i % 4], per_channel=i % 5 != 1,
                           bias=i % 3 != 2)
        check(lib, graph, rng, 1e-5, label=f"case {i}")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_depthwise_conv(lib, dtype):
    rng = np.random.default_rng([2, dtype == "int8"])
    for i in range(30):
        (h, w), k, stride, dil, pad = spatial(rng)
        cin, dm = int(rng.integers(1, 6)), int(rng.choice([1, 1, 2, 3]))
        attrs = dict(padding=pad, stride=stride, dilation=dil, depth_multiplier=dm,
                     activation=ACTS[i % 4])
        x = quant_x(rng, (int(rng.integers(1, 3)), h, w, cin), dtype)
        graph = weighted(rng, dtype, "DEPTHWISE_CONV_2D", x, (1, *k, cin * dm), 3, attrs,
                         i % 5 != 1, i % 3 != 2)
        check(lib, graph, rng, 1e-5, label=f"case {i}")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_fully_connected(lib, dtype):
    rng = np.random.default_rng([3, dtype == "int8"])
    for i in range(20):
        k, n, batches = int(rng.integers(1, 80)), int(rng.integers(1, 20)), int(rng.integers(1, 4))
        keep = i % 4 == 3
        shape = (batches, 2, k) if keep else (batches, k)
        attrs = dict(activation=ACTS[i % 4], keep_num_dims=keep)
        graph = weighted(rng, dtype, "FULLY_CONNECTED", quant_x(rng, shape, dtype), (n, k), 0,
                         attrs, i % 2 == 0, i % 3 != 2)
        check(lib, graph, rng, 1e-5, label=f"case {i}")


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_pool(lib, kind, dtype):
    rng = np.random.default_rng([4, kind == "MAX_POOL_2D", dtype == "int8"])
    for i in range(20):
        (h, w), k, stride, _, pad = spatial(rng)
        if pad == "VALID":
            h, w = max(h, k[0]), max(w, k[1])
        attrs = dict(padding=pad, stride=stride, filter=k, activation=ACTS[i % 4])
        x = quant_x(rng, (int(rng.integers(1, 3)), h, w, int(rng.integers(1, 6))), dtype)
        scale = None if dtype == "float32" else x.quant.s
        zp = None if dtype == "float32" else x.quant.zp
        graph = one_op(kind, [x], attrs, out_like(kind, [x], attrs, scale=scale, zp=zp))
        check(lib, graph, rng, label=f"case {i}")


def broadcast_shapes(rng):
    rank = int(rng.integers(1, 6))
    out = [int(v) for v in rng.integers(1, 5, rank)]
    a = [d if rng.random() < 0.7 else 1 for d in out]
    b = [d if rng.random() < 0.7 else 1 for d in out][int(rng.integers(0, rank)):]
    return (a, b) if rng.random() < 0.5 else (b, a)


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_binary_broadcast(lib, kind, dtype):
    rng = np.random.default_rng([5, ("ADD", "SUB", "MUL").index(kind), dtype == "int8"])
    for i in range(25):
        sa, sb = broadcast_shapes(rng) if i % 5 else ([2, 3, 4], [2, 3, 4])
        attrs = dict(activation=ACTS[i % 4])
        if dtype == "float32":
            a, b = act("a", sa, "float32"), act("b", sb, "float32")
            out = out_like(kind, [a, b], attrs)
        else:
            a = act("a", sa, "int8", float(rng.uniform(0.01, 0.2)), int(rng.integers(-128, 128)))
            b = act("b", sb, "int8", float(rng.uniform(0.01, 0.2)), int(rng.integers(-128, 128)))
            s_out = float(rng.uniform(0.01, 0.3)) * (a.quant.s * 20 if kind == "MUL" else 1)
            out = out_like(kind, [a, b], attrs, scale=s_out, zp=int(rng.integers(-50, 51)))
        check(lib, one_op(kind, [a, b], attrs, out), rng, label=f"case {i} {sa} {sb}")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_softmax(lib, dtype):
    rng = np.random.default_rng([6, dtype == "int8"])
    for i in range(12):
        shape = [int(v) for v in rng.integers(1, 12, int(rng.integers(1, 4)))]
        attrs = dict(beta=float(rng.choice([1.0, 0.5, 2.0, 0.1])))
        if dtype == "float32":
            x = act("x", shape, "float32")
            out = out_like("SOFTMAX", [x], attrs)
        else:
            x = quant_x(rng, shape)
            x = x.replace(quant=type(x.quant)(float(rng.uniform(0.02, 0.5)), x.quant.zp))
            out = out_like("SOFTMAX", [x], attrs, scale=1 / 256, zp=-128)
        check(lib, one_op("SOFTMAX", [x], attrs, out), rng, label=f"case {i}")


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
def test_logistic_tanh_int8_every_code(lib, kind):
    rng = np.random.default_rng([7, kind == "TANH"])
    codes = np.arange(-128, 128, dtype=np.int8)
    for i in range(12):
        s_in = float(np.exp(rng.uniform(np.log(1e-3), np.log(0.5))))
        x = act("x", (256,), "int8", s_in, int(rng.integers(-128, 128)))
        out = (out_like(kind, [x], {}, scale=1 / 256, zp=-128) if kind == "LOGISTIC"
               else out_like(kind, [x], {}, scale=1 / 128, zp=0))
        check(lib, one_op(kind, [x], {}, out), rng, inputs=[codes], label=f"s_in={s_in}")


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH", "RELU", "RELU6"])
def test_float_unary(lib, kind):
    rng = np.random.default_rng([8, len(kind)])
    x = act("x", (3, 50), "float32")
    values = (rng.standard_normal((3, 50)) * 8).astype(np.float32)
    values[0, :4] = [-9.5, 17.0, 0.0, 6.0]
    check(lib, one_op(kind, [x], {}, out_like(kind, [x], {})), rng, 2e-7, inputs=[values])


@pytest.mark.parametrize("kind", ["RELU", "RELU6"])
def test_relu_int8(lib, kind):
    rng = np.random.default_rng([9, kind == "RELU6"])
    codes = np.arange(-128, 128, dtype=np.int8)
    for i in range(10):
        x = act("x", (256,), "int8", float(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128)))
        out = out_like(kind, [x], {}, scale=float(rng.uniform(0.005, 0.1)),
                       zp=int(rng.integers(-128, 128)))
        check(lib, one_op(kind, [x], {}, out), rng, inputs=[codes], label=f"case {i}")


def hard_swish_scales(rng, i):
    """(s_in, s_out): wide and tiny input scales (left and right reluish shifts), output scales
    down to TFLM's floor s_in / 128 (output shift 0) and far above it."""
    s_in = float(np.exp(rng.uniform(np.log(2e-4), np.log(2.0))))
    if i % 4 == 0:
        return s_in, s_in / 128 * float(rng.uniform(1.0, 1.05))
    return s_in, s_in * float(np.exp(rng.uniform(np.log(0.05), np.log(40.0))))


def test_hard_swish_int8_every_code(lib):
    rng = np.random.default_rng(21)
    codes = np.arange(-128, 128, dtype=np.int8)
    exponents = set()
    for i in range(40):
        s_in, s_out = hard_swish_scales(rng, i)
        x = act("x", (256,), "int8", s_in, int(rng.integers(-128, 128)))
        out = out_like("HARD_SWISH", [x], {}, scale=s_out, zp=int(rng.integers(-128, 128)))
        graph = one_op("HARD_SWISH", [x], {}, out)
        with plain_layouts(["out"]):    # its own kernel, not the table (tests/test_lut.py)
            p = lower(Node.of(graph, graph.ops[0])).params
            exponents |= {("out", p["output_shift"] == 0),
                          ("reluish", np.sign(p["reluish_shift"]))}
            check(lib, graph, rng, inputs=[codes], label=f"case {i} s_in={s_in} s_out={s_out}")
    assert exponents >= {("out", True), ("out", False), ("reluish", 1), ("reluish", -1)}


@pytest.mark.parametrize("alpha", [0.2, 0.01, -0.3, 2.5, 0.0, 1.0])
def test_leaky_relu_int8_every_code(lib, alpha):
    rng = np.random.default_rng([22, int(alpha * 100) + 50])
    codes = np.arange(-128, 128, dtype=np.int8)
    for i in range(12):
        s_in = float(rng.uniform(0.002, 0.3))
        x = act("x", (256,), "int8", s_in, int(rng.integers(-128, 128)))
        attrs = dict(alpha=alpha)
        out = out_like("LEAKY_RELU", [x], attrs, scale=s_in * float(rng.uniform(0.05, 4.0)),
                       zp=int(rng.integers(-128, 128)))
        with plain_layouts(["out"]):    # its own kernel, not the table (tests/test_lut.py)
            check(lib, one_op("LEAKY_RELU", [x], attrs, out), rng, inputs=[codes],
                  label=f"case {i}")


@pytest.mark.parametrize("kind,attrs", [("HARD_SWISH", {}), ("LEAKY_RELU", {}),
                                        ("LEAKY_RELU", dict(alpha=0.1)),
                                        ("LEAKY_RELU", dict(alpha=-1.7))])
def test_hard_swish_leaky_relu_float_exact(lib, kind, attrs):
    """Same float32 operations in the same order as the reference: equal bit for bit."""
    rng = np.random.default_rng([23, len(kind), len(attrs)])
    x = act("x", (4, 100), "float32")
    values = (rng.standard_normal((4, 100)) * 5).astype(np.float32)
    values[0, :9] = [-3.0, 3.0, 0.0, -0.0, -1e30, 1e30, -2.9999998, 1e-40, -1e-40]
    check(lib, one_op(kind, [x], attrs, out_like(kind, [x], attrs)), rng, inputs=[values],
          exact=True)


def test_quantize_dequantize_requantize(lib):
    rng = np.random.default_rng(10)
    for i in range(10):
        scale, zp = float(rng.uniform(0.005, 0.2)), int(rng.integers(-128, 128))
        x = act("x", (400,), "float32")
        values = (rng.standard_normal(400) * 128 * scale).astype(np.float32)
        ties = (np.arange(-150, 150) + 0.5).astype(np.float32) * np.float32(scale)
        values[:300] = ties
        values[300:306] = [np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0]
        out = act("out", (400,), "int8", scale, zp)
        check(lib, one_op("QUANTIZE", [x], dict(dtype="int8"), out), rng, inputs=[values],
              label=f"quantize {i}")
        q = act("q", (256,), "int8", scale, zp)
        codes = [np.arange(-128, 128, dtype=np.int8)]
        check(lib, one_op("DEQUANTIZE", [q], {}, act("f", (256,), "float32")), rng, 0,
              inputs=codes, label=f"dequantize {i}")
        out = act("r", (256,), "int8", float(rng.uniform(0.005, 0.2)), int(rng.integers(-128, 128)))
        check(lib, one_op("QUANTIZE", [q], dict(dtype="int8"), out), rng, inputs=codes,
              label=f"requantize {i}")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_mean(lib, dtype):
    rng = np.random.default_rng([11, dtype == "int8"])
    for i in range(15):
        rank = int(rng.integers(1, 5))
        shape = [int(v) for v in rng.integers(1, 7, rank)]
        axes = sorted({int(a) for a in rng.integers(-rank, rank, int(rng.integers(1, rank + 1)))})
        attrs = dict(keep_dims=bool(i % 2))
        x = quant_x(rng, shape, dtype)
        ax = const("axes", np.array(axes, np.int32))
        scale = None if dtype == "float32" else float(x.quant.s * rng.uniform(0.5, 2))
        zp = None if dtype == "float32" else int(rng.integers(-20, 21))
        out = out_like("MEAN", [x, ax], attrs, scale=scale, zp=zp)
        check(lib, one_op("MEAN", [x, ax], attrs, out), rng, label=f"{shape} axes {axes}")


DATA_DTYPES = ["int8", "float32", "int16", "int32"]


def data_act(rng, shape, dtype):
    """An input of a data-movement op: int8 and int16 quantized, float32 and int32 plain."""
    if dtype == "int8":
        return quant_x(rng, shape)
    if dtype == "int16":
        return act("x", shape, dtype, 1 / 4096, 0)
    return act("x", shape, dtype)


@pytest.mark.parametrize("dtype", DATA_DTYPES)
def test_pad(lib, dtype):
    rng = np.random.default_rng([12, DATA_DTYPES.index(dtype)])
    for i in range(12):
        shape = [int(v) for v in rng.integers(1, 5, int(rng.integers(1, 6)))]
        pads = const("pads", rng.integers(0, 3, (len(shape), 2)).astype(np.int32))
        x = data_act(rng, shape, dtype)
        ins = [x, pads]
        kind = "PAD"
        if i % 3 == 2 and dtype != "int16":
            kind = "PADV2"
            fill = np.array([rng.integers(-100, 100)], dtype)
            ins.append(const("v", fill, scale=x.quant.s if x.quant else None,
                             zp=x.quant.zp if x.quant else None))
        q = dict(scale=x.quant.s, zp=x.quant.zp) if x.quant else {}
        check(lib, one_op(kind, ins, {}, out_like(kind, ins, {}, **q)), rng, 0, label=f"{i}")


@pytest.mark.parametrize("dtype", DATA_DTYPES)
def test_concat_transpose_strided_slice(lib, dtype):
    rng = np.random.default_rng([13, DATA_DTYPES.index(dtype)])
    for i in range(12):
        rank = int(rng.integers(1, 7))
        shape = [int(v) for v in rng.integers(1, 5, rank)]
        x = data_act(rng, shape, dtype)
        q = dict(scale=x.quant.s, zp=x.quant.zp) if x.quant else {}
        axis = int(rng.integers(-rank, rank))
        parts = [x] + [x.replace(name=f"x{j}", shape=tuple(
            int(rng.integers(1, 4)) if d == axis % rank else s for d, s in enumerate(shape)))
            for j in range(int(rng.integers(1, 4)))]
        attrs = dict(axis=axis)
        out = out_like("CONCATENATION", parts, attrs, **q)
        check(lib, one_op("CONCATENATION", parts, attrs, out), rng, 0, label=f"concat {i}")
        perm = const("perm", rng.permutation(rank).astype(np.int32))
        out = out_like("TRANSPOSE", [x, perm], {}, **q)
        check(lib, one_op("TRANSPOSE", [x, perm], {}, out), rng, 0, label=f"transpose {i}")
        begin = [int(rng.integers(-s, s)) for s in shape]
        end = [int(rng.integers(-s - 1, s + 2)) for s in shape]
        strides = [int(rng.choice([1, 2, -1, -2, 3])) for _ in shape]
        attrs = dict(begin_mask=int(rng.integers(0, 1 << rank)),
                     end_mask=int(rng.integers(0, 1 << rank)),
                     shrink_axis_mask=int(rng.integers(0, 1 << rank)) if i % 3 == 0 else 0)
        for j in range(rank):
            if attrs["shrink_axis_mask"] >> j & 1:
                strides[j] = 1
        ins = [x] + [const(n, np.array(v, np.int32))
                     for n, v in (("b", begin), ("e", end), ("s", strides))]
        out = out_like("STRIDED_SLICE", ins, attrs, **q)
        check(lib, one_op("STRIDED_SLICE", ins, attrs, out), rng, 0, label=f"slice {i} {attrs}")


# ---------------------------------------------------------------------- hybrid kernels

F32 = np.float32
HALF_BELOW = float(np.nextafter(F32(0.5), F32(0)))
TIES = np.array([0.5, -0.5, 2.5, -3.5, 126.5, HALF_BELOW, -HALF_BELOW, 1.5], F32)


def hybrid_input(rng, shape, case: int) -> np.ndarray:
    """Float input whose batches exercise the quantizers: plain, rounding ties in the NEON body
    and the tail (symmetric: max|x| = 127 -> multiplier 1; asymmetric: range [-100.5, 154.5]
    -> scale 1 and the zero point tie -27.5 -> -28), all >= 0 (asymmetric zp -128), and an
    all-zero batch."""
    x = (rng.standard_normal(shape) * rng.uniform(0.3, 4) + rng.uniform(-2, 2)).astype(F32)
    rows = x.reshape(shape[0], -1)
    kind = case % 5
    if kind in (1, 2) and rows.shape[1] > 2:
        picks = rng.integers(2, rows.shape[1], min(rows.shape[1], 16))
        rows[:, picks] = rng.choice(TIES, (rows.shape[0], picks.size))
        rows[:, 0] = 154.5 if kind == 2 else 127
        rows[:, 1] = -100.5 if kind == 2 else rows[:, 1] % 100
    elif kind == 3:
        rows[:] = np.abs(rows)
    elif kind == 4:
        rows[-1] = 0
    return x


def hybrid_graph(rng, kind, x_shape, w_shape, axis, attrs, n_scales, wdtype="int8",
                 bias=True, equal=False):
    """One hybrid op: float32 input, int8 (or int4-valued) weights with n_scales scales."""
    lim = 8 if wdtype == "int4" else 128
    scales = rng.uniform(0.002, 0.02, n_scales).astype(F32)
    if equal:
        scales[:] = scales[0]
    w = const("w", rng.integers(1 - lim, lim, w_shape).astype(np.int8), scale=scales,
              axis=axis if n_scales > 1 else None, dtype=wdtype)
    b = const("b", rng.standard_normal(w_shape[axis]).astype(F32)) if bias else None
    x = act("x", x_shape, "float32")
    ins = [x, w, b] if bias or kind == "FULLY_CONNECTED" else [x, w]
    return one_op(kind, ins, attrs, out_like(kind, ins, attrs))


def hybrid_conv_cases(rng, count):
    for i in range(count):
        (h, w), k, stride, dil, pad = spatial(rng)
        per_channel = i % 2 == 1
        groups = int(rng.choice([1, 2, 3])) if per_channel and i % 3 else 1
        cin, cout = groups * int(rng.integers(1, 5)), groups * int(rng.integers(1, 6))
        attrs = dict(padding=pad, stride=stride, dilation=dil, activation=ACTS[i % 4])
        x_shape = (int(rng.integers(1, 4)), h, w, cin)
        graph = hybrid_graph(rng, "CONV_2D", x_shape, (cout, *k, cin // groups), 0, attrs,
                             cout if per_channel else 1, "int4" if i % 7 == 3 else "int8",
                             bias=i % 5 != 2, equal=i % 9 == 5)
        yield graph, hybrid_input(rng, x_shape, i), f"conv case {i} groups {groups}"


def hybrid_depthwise_cases(rng, count):
    for i in range(count):
        (h, w), k, stride, dil, pad = spatial(rng)
        cin, dm = int(rng.integers(1, 6)), int(rng.choice([1, 1, 2, 3]))
        attrs = dict(padding=pad, stride=stride, dilation=dil, depth_multiplier=dm,
                     activation=ACTS[i % 4])
        x_shape = (int(rng.integers(1, 4)), h, w, cin)
        graph = hybrid_graph(rng, "DEPTHWISE_CONV_2D", x_shape, (1, *k, cin * dm), 3, attrs,
                             cin * dm, bias=i % 5 != 2)
        yield graph, hybrid_input(rng, x_shape, i), f"depthwise case {i}"


def hybrid_fc_cases(rng, count):
    for i in range(count):
        k, n, batches = int(rng.integers(1, 80)), int(rng.integers(1, 20)), int(rng.integers(1, 4))
        keep = i % 4 == 3
        x_shape = (batches, 2, k) if keep else (batches, k)
        attrs = dict(activation=ACTS[i % 4], keep_num_dims=keep,
                     asymmetric_quantize_inputs=i % 3 == 1)
        graph = hybrid_graph(rng, "FULLY_CONNECTED", x_shape, (n, k), 0, attrs,
                             n if i % 2 else 1, bias=i % 5 != 2)
        yield graph, hybrid_input(rng, x_shape, i), f"fc case {i} {attrs}"


HYBRID_CASES = {"CONV_2D": hybrid_conv_cases, "DEPTHWISE_CONV_2D": hybrid_depthwise_cases,
                "FULLY_CONNECTED": hybrid_fc_cases}


@pytest.mark.parametrize("kind", sorted(HYBRID_CASES))
def test_hybrid_bit_exact(lib, kind):
    rng = np.random.default_rng([15, sorted(HYBRID_CASES).index(kind)])
    for graph, x, label in HYBRID_CASES[kind](rng, 40):
        assert hybrid.is_hybrid(Node.of(graph, graph.ops[0]))
        check(lib, graph, rng, inputs=[x], label=label, exact=True)


@pytest.mark.parametrize("core", ["cortex-m4", "cortex-m0"])
def test_hybrid_bit_exact_under_qemu(core):
    """Cross-compiled (FPU on M4; soft float and soft double on M0) the hybrid kernels still
    equal the reference bit for bit; case 7 of each kind quantizes asymmetrically with ties."""
    from toolchain.verify.executors import get_executor

    rng = np.random.default_rng(19)
    for kind in sorted(HYBRID_CASES):
        graph, x, label = list(HYBRID_CASES[kind](rng, 8))[7]
        params = lower(Node.of(graph, graph.ops[0])).params   # the double-using quantizer
        assert params.get("per_channel", 1) and params.get("asymmetric", 1), label
        got = get_executor("qemu")(graph, [x], target=core).outputs[0]
        assert_exact(run_graph(graph, [x])[0], got, f"{core} {label}")


def test_hybrid_quantizer_ties_by_hand(lib):
    """An identity hybrid FC (scale 1) outputs the quantized input: the NEON body rounds
    0.49999997 up, the std::round tail does not; ties go away from zero in both."""
    row = np.array([127, -3.5, 2.5, HALF_BELOW, 0, -127, 1.5, -0.5, HALF_BELOW, 2.5, -2.5], F32)
    k = row.size
    w = const("w", np.eye(k, dtype=np.int8), scale=np.ones(1, F32))
    ins = [act("x", (1, k), "float32"), w, None]
    graph = one_op("FULLY_CONNECTED", ins, {}, out_like("FULLY_CONNECTED", ins, {}))
    got = run_c(lib, graph, [row[None]], np.random.default_rng(16))
    assert_exact(np.array([[127, -4, 3, 1, 0, -127, 2, -1, 0, 3, -3]], F32), got)


def test_hybrid_status_on_bad_arguments(lib):
    rng = np.random.default_rng(20)
    for kind in sorted(HYBRID_CASES):
        graph, x, _ = next(HYBRID_CASES[kind](rng, 1))
        call = lower(Node.of(graph, graph.ops[0]))
        kernel = getattr(lib, call.kernel)
        assert kernel(None, None, None, None) == 1                        # FITML_ERR_ARGUMENT
        params, _ = cruntime.to_ctypes(call.params_type, call.params,
                                       lambda n: graph.tensors[n].data)
        y = np.zeros(graph.tensors[graph.outputs[0]].size, np.float32)
        assert kernel(ctypes.byref(params), x.ctypes.data_as(ctypes.c_void_p),
                      y.ctypes.data_as(ctypes.c_void_p), None) == 3       # FITML_ERR_SCRATCH


def test_hybrid_unsupported_lowering():
    rng = np.random.default_rng(17)
    attrs = dict(activation="TANH")
    graph = hybrid_graph(rng, "FULLY_CONNECTED", (1, 8), (4, 8), 0, attrs, 1)
    with pytest.raises(NotImplementedError, match="TANH"):
        lower(Node.of(graph, graph.ops[0]))


def _has_fma() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return " fma " in f.read().replace("\n", " ")
    except OSError:
        return False


def test_hybrid_bit_exact_in_a_gnu_fma_build(tmp_path):
    """gcc contracts a * b + c into FMA in GNU C modes; the hybrid sources forbid it, so a
    -std=gnu99 -ffp-contract=fast -mfma build still matches the reference bit for bit."""
    if platform.machine() != "x86_64" or not _has_fma():
        pytest.skip(f"needs an x86-64 host with FMA to build -mfma code (this host: "
                    f"{platform.machine()}, FMA {'yes' if _has_fma() else 'no'})")
    kernels = ["fitml_conv_hybrid_f32", "fitml_depthwise_conv_hybrid_f32",
               "fitml_fully_connected_hybrid_f32"]
    fma_lib = ctypes.CDLL(str(cruntime.build_host_library(
        tmp_path, kernels, cflags=["-std=gnu99", "-ffp-contract=fast", "-mfma", "-O2"])))
    rng = np.random.default_rng(18)
    for kind in sorted(HYBRID_CASES):
        for graph, x, label in HYBRID_CASES[kind](rng, 12):
            check(fma_lib, graph, rng, inputs=[x], label=f"fma {label}", exact=True)


# ---------------------------------------------------------------------- real models

REAL_MODELS = ["mlperf_tiny/kws/kws_ref_model_int8.tflite",
               "mlperf_tiny/ic/pretrainedResnet_quant.tflite",
               "mlperf_tiny/vww/vww_96_int8.tflite",
               "mlperf_tiny/ad/ad01_int8.tflite", "tflm/micro_speech_quantized.tflite",
               "mlperf_tiny/vww/vww_96_float.tflite", "mlperf_tiny/ad/ad01_fp32.tflite",
               "mlperf_tiny/ic/pretrainedResnet.tflite",
               "mlperf_tiny/kws/kws_ref_model_float32.tflite"]


@pytest.mark.parametrize("rel", REAL_MODELS, ids=lambda r: r.split("/")[-1].split(".")[0])
def test_real_model_layer_by_layer(lib, rel):
    """Each op of a shared model, run by its C kernel on the reference's own input tensors."""
    from conftest import shared_model
    from toolchain.frontends.tflite import load_tflite
    from toolchain.ir import Graph

    graph = load_tflite(shared_model(rel))
    rng = np.random.default_rng(14)
    values = run_graph(graph, oplab.random_inputs(graph, rng), keep_all=True)
    for index, op in enumerate(graph.ops):
        names = [n for n in op.inputs if n] + list(op.outputs)
        live = [n for n in op.inputs if n and not graph.tensors[n].is_const]
        sub = Graph.build([graph.tensors[n] for n in dict.fromkeys(names)], [op], live,
                          op.outputs)
        node = Node.of(sub, op)
        if lower(node).alias_of is not None:
            continue
        check(lib, sub, rng, 1e-4, inputs=[values[n] for n in live],
              label=f"op {index} {op.kind}", exact=hybrid.is_hybrid(node))
