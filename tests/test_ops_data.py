"""Data-movement ops (RESHAPE, PAD, PADV2, CONCATENATION, TRANSPOSE, STRIDED_SLICE, SQUEEZE):
numpy reference == TFLite Micro (and LiteRT) exactly, on seeded random one-op graphs, for int8,
float32, int16 and int32; GraphError for what TFLM rejects; the RESHAPE of real models.
"""
from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import oplab
from conftest import shared_model
from oplab import act, assert_exact, const, one_op, out_like
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, GraphError, Op
from toolchain.ops import registry
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm

SEEDS = range(10)
DTYPES = ("int8", "float32", "int16", "int32")


def i32(name, values):
    return const(name, np.asarray(values, np.int32))


def rand_shape(rng, rank, lo=1, hi=5):
    return tuple(int(d) for d in rng.integers(lo, hi + 1, rank))


def rand_act(rng, name, shape, dtype, quant=None):
    """An activation; int8 gets a random (scale, zp) unless `quant` is given."""
    if dtype != "int8":
        return act(name, shape, dtype)
    scale, zp = quant or (float(rng.uniform(0.01, 0.5)), int(rng.integers(-128, 128)))
    return act(name, shape, "int8", scale, zp)


def out_for(kind, ins, attrs, like):
    """The inferred output, with the quant params of tensor `like`."""
    q = like.quant
    return out_like(kind, ins, attrs, scale=q.s if q else None, zp=q.zp if q else None)


def check(graph: Graph, rng, tflm=True, litert=True):
    """Reference vs TFLM and LiteRT on random inputs: every executor equal bit for bit.

    The written .tflite is also read back: the reloaded graph must compute the same outputs.
    """
    inputs = oplab.random_inputs(graph, rng)
    ref = run_graph(graph, inputs)
    model = write_tflite(graph)
    for i, (want, got) in enumerate(zip(ref, run_graph(load_tflite(model), inputs))):
        assert_exact(want, got, f"reloaded output {i}")
    runs = [("tflm", run_tflm)] * tflm + [("litert", run_litert)] * litert
    for name, run in runs:
        outs = run(model, inputs)
        for i, (want, got) in enumerate(zip(ref, outs)):
            assert_exact(want, np.asarray(got).reshape(want.shape), f"{name} output {i}")
    return ref


def build(kind, ins, attrs):
    return one_op(kind, ins, attrs, out_for(kind, ins, attrs, ins[0]))


# ---------------------------------------------------------------- random cases vs TFLM


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_reshape(dtype, seed):
    rng = np.random.default_rng(seed)
    shape = rand_shape(rng, int(rng.integers(1, 5)))
    x = rand_act(rng, "x", shape, dtype)
    flat = int(np.prod(shape))
    dims = [d for d in range(1, flat + 1) if flat % d == 0]
    first = int(rng.choice(dims))
    target = [first, flat // first, 1][: int(rng.integers(2, 4))]
    if rng.random() < 0.7:
        target[int(rng.integers(len(target)))] = -1
    if seed % 2:
        g = build("RESHAPE", [x, i32("shape", target)], {})
    else:
        g = build("RESHAPE", [x], dict(new_shape=tuple(target)))
    check(g, rng)


def rand_paddings(rng, rank, image_style=False):
    pads = rng.integers(0, 4, (rank, 2))
    if image_style:
        pads[0] = pads[-1] = 0
    return pads.astype(np.int32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_pad(dtype, seed):
    rng = np.random.default_rng(seed)
    rank = 4 if seed % 3 == 0 else int(rng.integers(1, 5))
    x = rand_act(rng, "x", rand_shape(rng, rank), dtype)
    pads = rand_paddings(rng, rank, image_style=seed % 3 == 0)
    ref = check(build("PAD", [x, i32("paddings", pads)], {}), rng)[0]
    fill = x.quant.zp if dtype == "int8" else 0
    border = np.ones(ref.shape, bool)
    border[tuple(slice(a, a + d) for d, (a, _) in zip(x.shape, pads))] = False
    assert (ref[border] == fill).all()


@pytest.mark.parametrize("dtype", ("int8", "float32", "int32"))
@pytest.mark.parametrize("seed", SEEDS)
def test_padv2(dtype, seed):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    x = rand_act(rng, "x", rand_shape(rng, rank), dtype)
    if dtype == "int8":
        value = const("fill", np.array([rng.integers(-128, 128)], np.int8),
                      scale=[x.quant.s], zp=[x.quant.zp])
    elif dtype == "float32":
        value = const("fill", np.array([rng.standard_normal()], np.float32))
    else:
        value = const("fill", np.array([rng.integers(-99, 99)], np.int32))
    ins = [x, i32("paddings", rand_paddings(rng, rank)), value]
    check(build("PADV2", ins, {}), rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_concatenation(dtype, seed):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    shape = rand_shape(rng, rank)
    axis = int(rng.integers(-rank, rank))
    quant = (float(rng.uniform(0.01, 0.5)), int(rng.integers(-128, 128)))
    ins = []
    for i in range(int(rng.integers(1, 5))):
        s = list(shape)
        s[axis] = int(rng.integers(1, 5))
        ins.append(rand_act(rng, f"x{i}", s, dtype, quant))
    check(build("CONCATENATION", ins, dict(axis=axis)), rng)


@pytest.mark.parametrize("dtype", ("int8", "float32", "int16"))
@pytest.mark.parametrize("seed", SEEDS)
def test_transpose(dtype, seed):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 6))
    x = rand_act(rng, "x", rand_shape(rng, rank, 1, 4), dtype)
    g = build("TRANSPOSE", [x, i32("perm", rng.permutation(rank))], {})
    check(g, rng)


@pytest.mark.parametrize("seed", range(4))
def test_transpose_int32_litert(seed):
    """TFLM has no int32 TRANSPOSE; LiteRT has."""
    rng = np.random.default_rng(seed)
    x = act("x", rand_shape(rng, 4), "int32")
    check(build("TRANSPOSE", [x, i32("perm", rng.permutation(4))], {}), rng, tflm=False)


def rand_slice(rng, shape, offset=False):
    """begin, end, strides and masks; shrink axes get a valid index and stride 1."""
    rank = len(shape)
    while True:
        begin = [int(rng.integers(-d - 2, d + 2)) for d in shape]
        end = [int(rng.integers(-d - 2, d + 2)) for d in shape]
        strides = [int(rng.choice([-3, -2, -1, 1, 1, 2, 3])) for _ in shape]
        masks = [int(rng.integers(0, 1 << rank)) for _ in range(3)]
        shrink = masks[2] if rng.random() < 0.4 else 0
        for a, d in enumerate(shape):
            if shrink >> a & 1:
                begin[a], strides[a] = int(rng.integers(-d, d)), 1
            elif offset:  # end is a size counted from begin, kept in range
                begin[a], strides[a] = int(rng.integers(-d, d)), abs(strides[a])
                start = 0 if masks[0] >> a & 1 else begin[a] % d
                end[a] = int(rng.integers(0, d - start + 1))
                masks[1] &= ~(1 << a)
        attrs = dict(begin_mask=masks[0], end_mask=masks[1], shrink_axis_mask=shrink,
                     offset=offset)
        probe = [act("x", shape, "float32"), i32("b", begin), i32("e", end), i32("s", strides)]
        out_shape = registry.get("STRIDED_SLICE").infer(Op("STRIDED_SLICE", [], [], attrs),
                                                        probe)[0][0]
        if all(out_shape):
            return probe[1:], attrs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(16))
def test_strided_slice(dtype, seed):
    rng = np.random.default_rng(seed)
    x = rand_act(rng, "x", rand_shape(rng, int(rng.integers(1, 5)), 1, 7), dtype)
    operands, attrs = rand_slice(rng, x.shape)
    check(build("STRIDED_SLICE", [x, *operands], attrs), rng)


@pytest.mark.parametrize("seed", range(6))
def test_strided_slice_offset_litert(seed):
    """`offset` (end relative to begin): TFLM ignores the flag, LiteRT implements it."""
    rng = np.random.default_rng(seed)
    x = rand_act(rng, "x", rand_shape(rng, 3, 2, 6), "int8")
    operands, attrs = rand_slice(rng, x.shape, offset=True)
    check(build("STRIDED_SLICE", [x, *operands], attrs), rng, tflm=False)


def test_strided_slice_hand_case():
    """x[1:, ::-2, 2] of a [3, 5, 4] arange, written out by hand."""
    x = act("x", (3, 5, 4), "int32")
    ins = [x, i32("b", [1, 0, 2]), i32("e", [0, 0, 0]), i32("s", [1, -2, 1])]
    g = build("STRIDED_SLICE", ins, dict(end_mask=3, begin_mask=2, shrink_axis_mask=4))
    data = np.arange(60, dtype=np.int32).reshape(3, 5, 4)
    assert_exact(data[1:, ::-2, 2], run_graph(g, [data])[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_squeeze(dtype, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(d) if rng.random() < 0.5 else 1
                  for d in rand_shape(rng, int(rng.integers(1, 6)), 2, 4))
    ones = [i for i, d in enumerate(shape) if d == 1]
    picked = [i - len(shape) if rng.random() < 0.5 else i
              for i in ones if rng.random() < 0.6]
    x = rand_act(rng, "x", shape, dtype)
    g = build("SQUEEZE", [x], dict(squeeze_dims=tuple(picked)))
    drop = {p % len(shape) for p in picked} or set(ones)
    assert g.tensors["out"].shape == tuple(d for i, d in enumerate(shape) if i not in drop)
    check(g, rng)


# ---------------------------------------------------------------- GraphError cases


def op_graph(kind, ins, attrs, out):
    """A one-op graph built without the registry's inference (for invalid cases)."""
    op = Op(kind, [t.name for t in ins], [out.name], attrs)
    return Graph.build([*ins, out], [op], [t.name for t in ins if not t.is_const], [out.name])


def raises(kind, ins, attrs, out, match):
    with pytest.raises(GraphError, match=match):
        op_graph(kind, ins, attrs, out).validate()


def test_concatenation_errors():
    a, b = act("a", (2, 3), "int8", 0.1, 3), act("b", (2, 3), "int8", 0.1, 3)
    out = act("o", (4, 3), "int8", 0.1, 3)
    raises("CONCATENATION", [a, b], dict(axis=2), out, "axis 2 out of range")
    raises("CONCATENATION", [a, b], dict(axis=-3), out, "axis -3 out of range")
    raises("CONCATENATION", [a, act("b", (2, 3), "int8", 0.2, 3)], {}, out, "requires them")
    raises("CONCATENATION", [a, b], {}, act("o", (4, 3), "int8", 0.1, 4), "requires them")
    raises("CONCATENATION", [a, b], dict(activation="RELU"), out, "activation RELU")
    raises("CONCATENATION", [a, act("b", (2, 4), "int8", 0.1, 3)], {}, out, "does not match")
    raises("CONCATENATION", [a, act("b", (2, 3), "int16", 0.1, 0)], {}, out, "int16")
    op_graph("CONCATENATION", [a, b], dict(axis=-2), out).validate()


def test_transpose_errors():
    x, out = act("x", (2, 3, 4)), act("o", (4, 3, 2))
    raises("TRANSPOSE", [x, i32("p", [2, 1, 1])], {}, out, "not a permutation")
    raises("TRANSPOSE", [x, i32("p", [2, 1, -3])], {}, out, "not a permutation")
    raises("TRANSPOSE", [x, i32("p", [1, 0])], {}, out, "length 3")
    raises("TRANSPOSE", [x, act("p", (3,), "int32")], {}, out, "must be a constant")


def test_strided_slice_errors():
    x, out = act("x", (4, 5)), act("o", (2, 5))
    ops = [x, i32("b", [0, 0]), i32("e", [2, 5]), i32("s", [1, 1])]
    op_graph("STRIDED_SLICE", ops, {}, out).validate()
    raises("STRIDED_SLICE", ops, dict(ellipsis_mask=1), out, "ellipsis_mask=1 is not supp")
    raises("STRIDED_SLICE", ops, dict(new_axis_mask=2), out, "new_axis_mask=2 is not supp")
    raises("STRIDED_SLICE", [*ops[:3], i32("s", [0, 1])], {}, out, "stride of axis 0 is 0")
    raises("STRIDED_SLICE", [x, i32("b", [4, 0]), *ops[2:]], dict(shrink_axis_mask=1),
           act("o", (5,)), "shrink axis 0")
    raises("STRIDED_SLICE", [*ops[:3], i32("s", [-1, 1])], dict(shrink_axis_mask=1),
           act("o", (5,)), "positive stride")
    raises("STRIDED_SLICE", [x, i32("b", [0]), *ops[2:]], {}, out, "begin has shape")


def test_shape_errors():
    x = act("x", (2, 1, 3))
    raises("SQUEEZE", [x], dict(squeeze_dims=(0,)), act("o", (1, 3)), "is not 1")
    raises("SQUEEZE", [x], dict(squeeze_dims=(3,)), act("o", (2, 3)), "out of range")
    raises("RESHAPE", [x], dict(new_shape=(4, 2)), act("o", (4, 2)), "holds 8 elements")
    raises("RESHAPE", [x], dict(new_shape=(-1, -1)), act("o", (2, 3)), "more than one -1")
    raises("RESHAPE", [x], dict(new_shape=(-1, 4)), act("o", (2, 3)), "cannot infer")
    raises("RESHAPE", [x], {}, act("o", (6,)), "no new_shape")
    raises("RESHAPE", [x, i32("s", [3, 2])], dict(new_shape=(2, 3)), act("o", (2, 3)),
           "runtimes would disagree")
    raises("PAD", [x, i32("p", [[0, 1], [1, 0]])], {}, act("o", (3, 2, 3)), "paddings shape")
    raises("PAD", [x, i32("p", [[0, 1], [0, 0], [-1, 0]])], {}, act("o", (3, 1, 2)),
           "negative paddings")
    raises("PAD", [x, act("p", (3, 2), "int32")], {}, act("o", (2, 1, 3)), "must be a const")
    p = i32("p", [[0, 1], [0, 0], [0, 0]])
    bad = const("v", np.array([0], np.int8), scale=[0.05], zp=[1])
    raises("PADV2", [x, p, bad], {}, act("o", (3, 1, 3)), "output's scale and zero point")
    two = const("v", np.array([0, 0], np.int8), scale=[0.05], zp=[0])
    raises("PADV2", [x, p, two], {}, act("o", (3, 1, 3)), "must be a scalar")


# ---------------------------------------------------------------- TFLite mapping, real models


@pytest.mark.parametrize("kind, attrs", [
    ("RESHAPE", dict(new_shape=(1, -1, 4))),
    ("CONCATENATION", dict(axis=-2, activation="NONE")),
    ("SQUEEZE", dict(squeeze_dims=(0, -1))),
    ("STRIDED_SLICE", dict(begin_mask=5, end_mask=2, ellipsis_mask=0, new_axis_mask=0,
                           shrink_axis_mask=8, offset=True)),
])
def test_attrs_round_trip(kind, attrs):
    opdef = registry.get(kind)
    options = opdef.attrs_to_tflite(attrs)
    assert type(options).__name__ == opdef.tflite_options + "T"
    assert opdef.attrs_from_tflite(options) == attrs


@pytest.mark.parametrize("rel, sample", [
    ("mlperf_tiny/kws/kws_ref_model_int8.tflite", "mlperf_tiny/kws/kws_sample_input_int8.npy"),
    ("mlperf_tiny/vww/vww_96_int8.tflite", None),
    ("tflm/micro_speech_quantized.tflite", None),
])
def test_real_model_reshape(rel, sample):
    """Each RESHAPE of a real model, fed the tensor TFLM computed, gives TFLM's output."""
    blob = shared_model(rel).read_bytes()
    model = schema.ModelT.InitFromPackedBuf(blob, 0)
    sub = model.subgraphs[0]
    rng = np.random.default_rng(7)
    inp = sub.tensors[sub.inputs[0]]
    x = (np.load(shared_model(sample)) if sample else
         rng.integers(-128, 128, list(inp.shape)).astype(np.int8))
    _, interp = run_tflm(blob, [x], preserve_all=True)
    found = 0
    for o in sub.operators:
        code = model.operatorCodes[o.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) != schema.BuiltinOperator.RESHAPE:
            continue
        found += 1
        src, shape_t, dst = sub.tensors[o.inputs[0]], sub.tensors[o.inputs[1]], \
            sub.tensors[o.outputs[0]]
        data = np.frombuffer(bytes(model.buffers[shape_t.buffer].data), "<i4")
        ins = [act("x", src.shape, "int8", 0.1, 0), i32("shape", data)]
        attrs = registry.get("RESHAPE").attrs_from_tflite(o.builtinOptions)
        g = build("RESHAPE", ins, attrs)
        assert g.tensors["out"].shape == tuple(dst.shape)
        got = run_graph(g, [interp.GetTensor(o.inputs[0], 0)["tensor_data"]])[0]
        assert_exact(interp.GetTensor(o.outputs[0], 0)["tensor_data"], got)
    assert found >= 1
