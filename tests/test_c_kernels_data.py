"""C kernels vs the numpy reference, through ctypes: the data movers (PAD, CONCATENATION,
TRANSPOSE, STRIDED_SLICE) in every data dtype, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

from ckernels import check, quant_x
from oplab import act, const, one_op, out_like


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
