"""PAD folding (passes/fold_pads.py) and its way back (passes/unfold_pads.py) on graphs built
here: each explicit PAD before a conv, depthwise conv or max pool becomes the window's own
padding, bit-exact to the PAD + VALID graph as TFLite Micro runs it, in the reference, the
generated C on the host and under QEMU (DSP and MVE kernels); what is not exact stays.
"""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, Op
from toolchain.lowering.cvariant import plain_layouts
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph
from toolchain.passes.fold_pads import fold_pads
from toolchain.passes.partition import apply
from toolchain.passes.unfold_pads import unfold_pads
from toolchain.verify.executors import get_executor
from toolchain.verify.tflm import run_tflm

LOWEST = "lowest"       # PADV2 with the dtype's lowest value (before a max pool)
# (pads ((top, bottom), (left, right)), op, attrs, fill: None = PAD's own, LOWEST, or a value)
STEPS = [
    (((1, 1), (1, 1)), "CONV_2D", dict(stride=(2, 2)), None),          # torch stride 2
    (((0, 2), (2, 1)), "DEPTHWISE_CONV_2D", {}, None),                  # asymmetric
    (((1, 1), (1, 1)), "MAX_POOL_2D", dict(stride=(2, 2), filter=(3, 3)), LOWEST),
    (((2, 2), (2, 2)), "CONV_2D", dict(dilation=(2, 2)), None),         # dilated
    (((1, 0), (0, 1)), "DEPTHWISE_CONV_2D", dict(stride=(2, 2)), None),
    (((1, 1), (1, 1)), "CONV_2D", {}, None),                            # = SAME
    (((1, 1), (1, 1)), "AVERAGE_POOL_2D", dict(filter=(3, 3)), None),   # never folded
]


def _weights(kind: str, x, k: int, rng):
    """(filter, bias) tensors of a 3x3 conv / depthwise conv reading x."""
    c = x.shape[3]
    shape = (c, 3, 3, c) if kind == "CONV_2D" else (1, 3, 3, c)
    data = rng.integers(-127, 128, shape).astype(np.int8)
    if x.dtype == "float32":
        return (oplab.const(f"w{k}", (data / 512).astype(np.float32)),
                oplab.const(f"b{k}", rng.normal(size=c).astype(np.float32)))
    scales = rng.uniform(0.002, 0.01, c).astype(np.float32)
    w = oplab.const(f"w{k}", data, scale=scales, axis=0 if kind == "CONV_2D" else 3)
    bias = rng.integers(-2000, 2000, c).astype(np.int32)
    return w, oplab.const(f"b{k}", bias, scale=scales * x.quant.s, axis=0)


def _pad(x, k: int, pads, fill):
    """The PAD / PADV2 op of step k and its tensors (output quantized as x)."""
    paddings = oplab.const(f"pads{k}", np.asarray([[0, 0], *pads, [0, 0]], np.int32))
    shape = (1, x.shape[1] + sum(pads[0]), x.shape[2] + sum(pads[1]), x.shape[3])
    out = x.replace(name=f"p{k}", shape=shape)
    ins = [x, paddings]
    if fill is not None:
        lowest = -np.inf if x.dtype == "float32" else np.iinfo(x.dtype).min
        value = np.asarray([lowest if fill == LOWEST else fill], x.dtype)
        ins.append(oplab.const(f"v{k}", value, scale=None).replace(quant=x.quant))
    return Op("PADV2" if fill is not None else "PAD", [t.name for t in ins], [out.name]), \
        ins, out


def build(dtype: str, steps, rng, shape=(1, 13, 12, 8)) -> Graph:
    """x -> (PAD -> op) per step; every int8 activation with its own scale and zero point."""
    quant = lambda k: dict(scale=0.04 + 0.01 * k, zp=(-3, 5, -7, 2, 0, 9, -1, 4)[k % 8]) \
        if dtype != "float32" else {}  # noqa: E731
    x = oplab.act("x", shape, dtype, **quant(0))
    tensors, ops = {x.name: x}, []
    for k, (pads, kind, attrs, fill) in enumerate(steps):
        pad, pad_ins, padded = _pad(x, k, pads, fill)
        attrs = dict(dict(padding="VALID", activation="NONE"), **attrs)
        ins = [padded]
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            ins += list(_weights(kind, x, k, rng))
        pooled = kind.endswith("POOL_2D")
        y = oplab.out_like(kind, ins, attrs, f"y{k}",
                           **(dict(scale=x.quant.s, zp=x.quant.zp) if pooled and x.quant
                              else quant(k + 1)))
        ops += [pad, Op(kind, [t.name for t in ins], [y.name], attrs)]
        tensors.update({t.name: t for t in [*pad_ins, *ins, y]})
        x = y
    return Graph.build(tensors.values(), ops, ["x"], [x.name]).validate()


def _compare(want, got, label):
    if want.dtype.kind == "f":
        atol = 1e-5 * max(1.0, float(np.abs(want).max()))     # float sums in another order
        oplab.assert_close(want, np.asarray(got).reshape(want.shape), atol, label)
    else:
        oplab.assert_exact(want, np.asarray(got).reshape(want.shape), label)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_folded_graph_equals_pad_valid_graph_in_tflm(dtype, rng):
    raw = build(dtype, STEPS, rng)
    folded = fold_pads(raw).validate()
    kinds = [op.kind for op in folded.ops]
    assert kinds.count("PAD") == 1 and "PADV2" not in kinds, kinds   # only the average's
    attrs = [op.attrs for op in folded.ops if op.kind != "PAD"]
    assert attrs[0]["padding"] == "EXPLICIT" and attrs[0]["explicit_padding"] == ((1, 1), (1, 0))
    assert attrs[1]["explicit_padding"] == ((0, 2), (2, 1))
    assert attrs[5]["padding"] == "SAME" and "explicit_padding" not in attrs[5]
    inputs = oplab.random_inputs(raw, rng)
    want = run_graph(raw, inputs)[0]
    _compare(want, run_tflm(write_tflite(raw), inputs)[0], "TFLM on PAD + VALID")
    _compare(want, run_graph(folded, inputs)[0], "reference after folding")
    _compare(want, run_tflm(write_tflite(folded), inputs)[0], "TFLM on the written fold")
    _compare(want, get_executor("host")(folded, inputs).outputs[0], "host C")


@pytest.mark.parametrize("target, plain", [("cortex-m4", False), ("cortex-m4", True),
                                           ("cortex-m55", False), ("cortex-m0plus", False)])
def test_folded_int8_graph_under_qemu(target, plain, rng):
    """The DSP (M4; with pre-widened weight layouts, and with plain int8 weights as when the
    flash is short), MVE (M55) and portable (M0+) kernels with explicit, asymmetric pads."""
    raw = build("int8", STEPS[:6], rng)
    folded = fold_pads(raw)
    inputs = oplab.random_inputs(raw, rng)
    layers = [op.outputs[0] for op in folded.ops] if plain else []
    with plain_layouts(layers):
        got = get_executor("qemu")(folded, inputs, target=target).outputs[0]
    oplab.assert_exact(run_graph(raw, inputs)[0], got, target)


def test_patch_stages_follow_explicit_padding(rng):
    """Patch-based execution (passes/partition.py) of folded windows: each patch's halo and
    padding follow the explicit pads, bit-exact in the reference and the host C."""
    raw = build("int8", STEPS[:6], rng, shape=(1, 40, 38, 8))
    staged = apply(fold_pads(raw), 0, 5, (3, 2)).validate()
    assert [op.kind for op in staged.ops] == ["PATCHED_STAGE"]
    inputs = oplab.random_inputs(raw, rng)
    want = run_graph(raw, inputs)[0]
    oplab.assert_exact(want, run_graph(staged, inputs)[0], "reference")
    oplab.assert_exact(want, get_executor("host")(staged, inputs).outputs[0], "host C")


@pytest.mark.parametrize("step, why", [
    ((((1, 1), (1, 1)), "CONV_2D", {}, 3), "fill is not the zero point"),
    ((((1, 1), (1, 1)), "MAX_POOL_2D", dict(filter=(3, 3)), None), "zero fill before a max"),
    ((((1, 1), (1, 1)), "AVERAGE_POOL_2D", dict(filter=(3, 3)), None), "average counts taps"),
    ((((3, 0), (0, 0)), "CONV_2D", {}, None), "a window wholly in the padding"),
    ((((0, 0), (0, 3)), "MAX_POOL_2D", dict(filter=(3, 3)), LOWEST), "a window without image"),
])
def test_pads_that_do_not_fold(step, why, rng):
    raw = build("int8", [step], rng)
    assert [op.kind for op in fold_pads(raw).ops][0] in ("PAD", "PADV2"), why


def test_pad_of_channels_or_requantizing_stays(rng):
    raw = build("int8", [(((1, 1), (1, 1)), "CONV_2D", {}, None)], rng)
    channels = np.asarray([[0, 0], [1, 1], [1, 1], [0, 1]], np.int32)
    t = raw.tensors
    wide = raw.replace(tensors={**t, "pads0": t["pads0"].replace(data=channels)})
    assert fold_pads(wide) is wide or fold_pads(wide).ops[0].kind == "PAD"
    p0 = t["p0"].replace(quant=oplab.act("q", (1,), "int8", 0.5, 1).quant)
    requant = raw.replace(tensors={**t, "p0": p0})
    assert fold_pads(requant).ops[0].kind == "PAD"


def test_pad_read_twice_folds_into_each_conv(rng):
    """Both convs reading one PAD fold; the PAD goes once nothing reads it."""
    raw = build("int8", [(((1, 1), (1, 1)), "CONV_2D", {}, None)], rng)
    conv = raw.ops[1]
    twin = conv.replace(outputs=["y_twin"])
    y = raw.tensors["y0"]
    add_out = y.replace(name="sum")
    add = Op("ADD", ["y0", "y_twin"], ["sum"], dict(activation="NONE"))
    g = raw.replace(ops=(*raw.ops, twin, add), outputs=("sum",),
                    tensors={**raw.tensors, "y_twin": y.replace(name="y_twin"),
                             "sum": add_out}).validate()
    folded = fold_pads(g).validate()
    assert [op.kind for op in folded.ops] == ["CONV_2D", "CONV_2D", "ADD"]
    inputs = oplab.random_inputs(g, rng)
    oplab.assert_exact(run_graph(g, inputs)[0], run_graph(folded, inputs)[0])


def test_writer_unfolds_to_same_or_pad_and_reader_folds_back(rng):
    folded = fold_pads(build("int8", STEPS, rng))
    written = load_tflite(write_tflite(folded), cleanup=False)
    assert not any(op.attr("padding") == "EXPLICIT" for op in written.ops)
    assert [op.kind for op in written.ops].count("PAD") == 4      # 3 EXPLICIT + the average
    windows = lambda g: [(op.kind, op.attr("padding"), op.attr("explicit_padding"))  # noqa
                         for op in g.ops]
    assert windows(fold_pads(unfold_pads(folded))) == windows(folded)
    assert windows(load_tflite(write_tflite(folded))) == windows(folded)   # cleanup folds


def test_explicit_padding_is_only_for_windows_that_take_it():
    """AVERAGE_POOL_2D refuses EXPLICIT padding; a malformed explicit_padding is refused."""
    x = oplab.act("x", (1, 6, 6, 2))
    bad = dict(padding="EXPLICIT", explicit_padding=((1, 1), (1, 1)), filter=(3, 3))
    with pytest.raises(ValueError, match="not SAME or VALID"):
        registry.get("AVERAGE_POOL_2D").infer(Op("AVERAGE_POOL_2D", ["x"], ["y"], bad), [x])
    worse = dict(bad, explicit_padding=((1, -1), (1, 1)))
    with pytest.raises(ValueError, match="negative explicit_padding"):
        registry.get("MAX_POOL_2D").infer(Op("MAX_POOL_2D", ["x"], ["y"], worse), [x])
