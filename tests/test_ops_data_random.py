"""Data-movement ops (RESHAPE, PAD, PADV2, CONCATENATION, TRANSPOSE, STRIDED_SLICE, SQUEEZE) on
seeded random one-op graphs for int8, float32, int16 and int32: numpy reference == TFLite Micro
and LiteRT exactly (LiteRT alone where TFLM lacks the case), and a hand-written slice."""
from __future__ import annotations

import numpy as np
import pytest

from oplab import act, assert_exact, const
from toolchain.ir import Op
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph
from data_op_cases import DTYPES, SEEDS, build, check, i32, rand_act, rand_shape


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
