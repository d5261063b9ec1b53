"""Table kernels (toolchain/ops/lut_lowering.py): int8 LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU
and RSQRT lower to `fitml_lut_s8` over a 256-entry table built from the op's reference.

Every code of seeded quantizations: reference == TFLite Micro, and the C table kernel ==
reference; the rule choosing the table; identical tables shared; a TF converter model with
the ops on the host and under QEMU (Cortex-M4) equal to TFLM.
"""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import converted_ops as co
import oplab
from ckernels import run_c
from toolchain.backends import cruntime
from toolchain.backends.c import lower
from toolchain.backends.clayouts import fit_layouts, flash_fits
from toolchain.ir import Graph, Node, Op
from toolchain.ops import lut_lowering, registry
from toolchain.plan.regions import Layout

CODES = np.arange(-128, 128, dtype=np.int8)
KINDS = [("LOGISTIC", {}), ("TANH", {}), ("HARD_SWISH", {}), ("LEAKY_RELU", dict(alpha=0.2)),
         ("LEAKY_RELU", dict(alpha=-0.7)), ("RSQRT", {}), ("ELU", {})]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return ctypes.CDLL(str(cruntime.build_host_library(tmp_path_factory.mktemp("lutlib"))))


def graph(kind, attrs, rng, size=256):
    """A one-op graph over `size` elements with seeded scales and zero points that TFLM
    accepts (LOGISTIC: output 1/256, -128; TANH: 1/128, 0; HARD_SWISH: s_out >= s_in/128)."""
    s_in = float(np.exp(rng.uniform(np.log(0.002), np.log(0.5))))
    zp_in = int(rng.integers(-128, 100 if kind == "RSQRT" else 128))
    s_out, zp_out = {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}.get(
        kind, (s_in * float(rng.uniform(0.3, 3.0)), int(rng.integers(-128, 128))))
    x = oplab.act("x", (size,), "int8", s_in, zp_in)
    out = oplab.act("out", (size,), "int8", s_out, zp_out)
    return oplab.one_op(kind, [x], attrs, out)


@pytest.mark.parametrize("kind,attrs", KINDS, ids=[f"{k}{a}" for k, a in KINDS])
def test_every_code_equals_tflm_and_the_c_table(lib, kind, attrs):
    rng = np.random.default_rng([31, len(kind), int(10 * attrs.get("alpha", 0)) + 20])
    for case in range(10):
        g = graph(kind, attrs, rng)
        node = Node.of(g, g.ops[0])
        assert registry.get(kind).lower_c(node).kernel == "fitml_lut_s8"
        codes = CODES
        if kind == "RSQRT":             # TFLM refuses codes below the zero point
            codes = np.concatenate([np.arange(node.ins[0].quant.zp, 128),
                                    np.full(256, 127)])[:256].astype(np.int8)
        ref, tflm = oplab.run_reference_and_tflm(g, [codes])
        oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(-1), f"{kind} case {case} tflm")
        want = lut_lowering.table(node)[CODES.astype(np.int64) + 128]
        oplab.assert_exact(want, run_c(lib, g, [CODES], rng), f"{kind} case {case} C")
        oplab.assert_exact(want, registry.get(kind).reference(node, [CODES])[0],
                           f"{kind} case {case} table")


def test_table_kernel_handles_every_length_and_in_place(lib):
    rng = np.random.default_rng(5)
    for size in (1, 2, 3, 4, 5, 7, 8, 255, 257):
        g = graph("LOGISTIC", {}, rng, size)
        x = rng.integers(-128, 128, size).astype(np.int8)
        want = registry.get("LOGISTIC").reference(Node.of(g, g.ops[0]), [x])[0]
        oplab.assert_exact(want, run_c(lib, g, [x], rng), f"size {size}")
        assert registry.get("LOGISTIC").lower_c(Node.of(g, g.ops[0])).inplace_input == 0


@pytest.mark.parametrize("kind,attrs", [("HARD_SWISH", {}), ("LEAKY_RELU", dict(alpha=0.1))])
def test_cheap_ops_take_the_table_from_256_elements(kind, attrs):
    rng = np.random.default_rng(7)
    kernels = {size: registry.get(kind).lower_c(Node.of(g, g.ops[0])).kernel
               for size in (255, 256)
               for g in [graph(kind, attrs, rng, size)]}
    assert kernels == {255: f"fitml_{kind.lower()}_s8", 256: "fitml_lut_s8"}, kernels


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH", "RSQRT"])
def test_costly_ops_always_take_the_table(kind):
    g = graph(kind, {}, np.random.default_rng(8), size=1)
    assert registry.get(kind).lower_c(Node.of(g, g.ops[0])).kernel == "fitml_lut_s8"


def test_float_and_int16_keep_their_kernels():
    x = oplab.act("x", (8,), "float32")
    g = oplab.one_op("LOGISTIC", [x], {}, oplab.act("out", (8,), "float32"))
    assert registry.get("LOGISTIC").lower_c(Node.of(g, g.ops[0])).kernel == "fitml_logistic_f32"
    x = oplab.act("x", (8,), "int16", 1 / 4096, 0)
    g = oplab.one_op("TANH", [x], {}, oplab.act("out", (8,), "int16", 2.0 ** -15, 0))
    assert registry.get("TANH").lower_c(Node.of(g, g.ops[0])).kernel == "fitml_tanh_s16"


def test_nodes_with_the_same_quantization_share_one_table():
    rng = np.random.default_rng(9)
    a = graph("TANH", {}, np.random.default_rng(10))
    b = graph("TANH", {}, np.random.default_rng(10), size=40)
    c = graph("TANH", {}, rng)
    lut = [registry.get("TANH").lower_c(Node.of(g, g.ops[0])).params["lut"] for g in (a, b, c)]
    assert lut[0] is lut[1] and lut[0] is not lut[2]


def gates(x):
    import tensorflow as tf  # lazy: only the converter fixture needs it
    y = x * 1.5 - 0.25
    return [tf.sigmoid(y), tf.tanh(x), tf.nn.leaky_relu(y, 0.15), x * tf.nn.relu6(x + 3) / 6]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(gates), [(1, 300)], "int8", tmp_path_factory, low=-4, high=4)


def test_converter_model_uses_the_table_kernel(model):
    kinds = co.kinds(model)
    assert {"LOGISTIC", "TANH", "LEAKY_RELU", "HARD_SWISH"} <= set(kinds), kinds
    lowered = {op.kind: registry.get(op.kind).lower_c(Node.of(model.graph, op)).kernel
               for op in model.graph.ops if op.kind in lut_lowering.MIN_ELEMENTS}
    assert set(lowered.values()) == {"fitml_lut_s8"}, lowered


def test_converter_model_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", [("host", None), ("qemu", "cortex-m4")])
def test_converter_model_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def gates_graph(sizes) -> Graph:
    """One LOGISTIC per input, each input with its own scale (so its own table)."""
    tensors, ops = [], []
    for k, n in enumerate(sizes):
        tensors += [oplab.act(f"x{k}", (n,), "int8", 0.01 * (k + 1), k),
                    oplab.act(f"y{k}", (n,), "int8", 1 / 256, -128)]
        ops.append(Op("LOGISTIC", [f"x{k}"], [f"y{k}"], {}))
    names = [t.name for t in tensors]
    return Graph.build(tensors, ops, names[::2], names[1::2]).validate()


def test_tables_give_way_when_flash_is_short():
    """Like DSP layouts, tables must never cost the fit: with room for three, the three that
    save the most instructions (the largest tensors) stay, the others run the gemmlowp kernel
    (each kernel bit-exact on its own: above and tests/test_c_kernels.py)."""
    graph = gates_graph([10, 60, 20, 50, 30, 40])
    low = lower(graph)
    assert [c.kernel for c in low.calls] == ["fitml_lut_s8"] * 6
    layout = Layout((("ram", 1 << 20),), (("main", 3 * 256 + 8),))
    calls, plain, choices = fit_layouts(low.graph, low.calls, layout, "cortex-m4")
    kept = {low.graph.ops[i].outputs[0] for i, c in enumerate(calls)
            if c.kernel == "fitml_lut_s8"}
    sizes = {op.outputs[0]: low.graph.tensors[op.outputs[0]].size for op in low.graph.ops}
    assert sorted(sizes[t] for t in kept) == [40, 50, 60], kept
    assert {c.output for c in choices if not c.kept} == set(plain) == set(sizes) - kept
    assert {c.kernel for c in calls} == {"fitml_lut_s8", "fitml_logistic_s8"}
    assert flash_fits(layout, low.graph, calls)
