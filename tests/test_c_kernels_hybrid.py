"""The hybrid kernels (float32 activations x int8 / int4 weights) vs the numpy reference, bit
for bit: through ctypes, under QEMU, in a GNU FMA build; their quantizer's ties and statuses."""
from __future__ import annotations

import ctypes
import platform

import numpy as np
import pytest

from ckernels import ACTS, check, lower, run_c, spatial
from oplab import act, assert_exact, const, one_op, out_like
from toolchain.backends import cruntime
from toolchain.ops import hybrid
from toolchain.ops.registry import Node
from toolchain.ops.interpreter import run_graph


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
