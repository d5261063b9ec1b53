"""The C runtime (runtime_c/): every source compiles warning-free for the host and for
Cortex-M4F / M0+, the parameter structs match the header, bad arguments give a status, and the
support math equals `arith.fixedpoint` / `arith.gemmlowp` on edge values (through ctypes)."""
from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from ckernels import ARM_FLAGS, EDGES, conv_graph, lower, vec
from oplab import assert_exact
from toolchain.backends import cruntime
from toolchain.ops.registry import Node
from toolchain.arith import fixedpoint as fp
from toolchain.arith import gemmlowp as gl


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
            # hybrid kernels derive LiteRT's asymmetric zero point in double, once per batch;
            # FLOOR_DIV f32 divides in double as TFLite's FloorDiv does (bit-exact quotients)
            doubles = [u for u in undef if u.startswith("__aeabi_d") and "hybrid" not in obj.stem
                       and obj.stem != "fitml_floor_div_f32"]
            assert not doubles, f"{obj.name} uses double arithmetic: {doubles}"
            if "f32" not in obj.stem:
                bad = [u for u in undef if u not in ("U", "memcpy", "memmove", "memset")
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
