"""ATen data movement: reshape / view / flatten / squeeze, permute and transpose (free: the
Value is read through another permutation), cat, constant padding, select, slice, split."""
from __future__ import annotations

import numpy as np

from .torch_builder import Builder
from .torch_common import Value, compose, converter, identity, inverse
from .torch_ops import pad


# --- data movement ----------------------------------------------------------------------------
@converter("aten.view.default", "aten.reshape.default", "aten._unsafe_view.default",
           "aten.flatten.using_ints", "aten.squeeze.dims", "aten.squeeze.dim",
           "aten.squeeze.default", "aten.unsqueeze.default", "aten.unflatten.int")
def reshape(b, node, x, *_):
    """RESHAPE in torch element order: NHWC data is transposed to NCHW first unless only
    size-1 dims differ."""
    shape = b.out_shape(node)
    src = x.tensor if b.in_memory_order(x) else b.tensor_in(x)
    if b.tensors[src].shape == shape:
        return Value(src, identity(len(shape)))
    return Value(b.reshape(src, shape), identity(len(shape)))


@converter("aten.expand.default")
def expand(b, node, x, *_):
    """BROADCAST_TO torch's result shape, in x's stored layout when the rank stays; no op for
    an expand that keeps the shape (as torch.matmul's decomposition adds)."""
    out = tuple(b.out_shape(node))
    if out == tuple(b.shape(x)):
        return x
    if isinstance(x, Value) and len(x.perm) == len(out):
        tensor, perm = x.tensor, x.perm
    else:
        tensor, perm = b.tensor_in(x), identity(len(out))
    return b.emit("BROADCAST_TO", [tensor, b.ints([out[p] for p in perm], "shape")], perm=perm)


@converter("aten.permute.default")
def permute(b, node, x, dims):
    """No op: the result is the same tensor read through another permutation."""
    dims = [int(d) % len(x.perm) for d in dims]
    return Value(x.tensor, compose(inverse(dims), x.perm))


@converter("aten.transpose.int")
def transpose(b, node, x, d0, d1):
    dims = list(range(len(x.perm)))
    d0, d1 = int(d0) % len(dims), int(d1) % len(dims)
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(b, node, x, dims)


@converter("aten.t.default")
def t(b, node, x):
    return permute(b, node, x, list(range(len(x.perm)))[::-1])


@converter("aten.cat.default")
def cat(b, node, tensors, dim=0):
    lead = next(v for v in tensors if isinstance(v, Value))
    dim = int(dim) % len(lead.perm)
    ins = [b.tensor_in(v, lead.perm) for v in tensors if 0 not in b.shape(v)]
    return b.emit("CONCATENATION", ins, dict(axis=lead.perm.index(dim), activation="NONE"),
                  perm=lead.perm)


@converter("aten.constant_pad_nd.default")
def constant_pad_nd(b, node, x, pads, value=0):
    rank = len(x.perm)
    torch_pads = [[0, 0] for _ in range(rank)]
    for i in range(len(pads) // 2):
        torch_pads[rank - 1 - i] = [int(pads[2 * i]), int(pads[2 * i + 1])]
    if min(min(p) for p in torch_pads) < 0:
        raise b.error(f"negative padding {list(pads)} (cropping) is not supported")
    stored = [torch_pads[p] for p in x.perm]
    return Value(pad(b, x.tensor, stored, float(value)), x.perm)


@converter("aten.reflection_pad1d.default", "aten.reflection_pad2d.default",
           "aten.reflection_pad3d.default")
def reflection_pad(b, node, x, pads):
    """F.pad(mode="reflect"): MIRROR_PAD REFLECT; `pads` lists the last dims first."""
    rank = len(x.perm)
    torch_pads = [[0, 0] for _ in range(rank)]
    for i in range(len(pads) // 2):
        torch_pads[rank - 1 - i] = [int(pads[2 * i]), int(pads[2 * i + 1])]
    if min(min(p) for p in torch_pads) < 0:
        raise b.error(f"negative reflection padding {list(pads)} is not supported")
    ins = [x.tensor, b.const_tensor(np.asarray([torch_pads[p] for p in x.perm], np.int32),
                                    "paddings")]
    return b.emit("MIRROR_PAD", ins, dict(mode="REFLECT"), perm=x.perm,
                  base=f"{x.tensor}_mirror")


def slice_value(b: Builder, x: Value, dim: int, start: int, end: int, step: int,
                shrink: bool = False) -> Value:
    """STRIDED_SLICE of torch dim `dim` on the stored tensor; `shrink` drops that dim."""
    rank = len(x.perm)
    dim %= rank
    stored = b.tensors[x.tensor].shape
    axis = x.perm.index(dim)
    begin, stop, strides = [0] * rank, list(stored), [1] * rank
    begin[axis], stop[axis], strides[axis] = start, end, step
    ins = [x.tensor, b.ints(begin, "begin"), b.ints(stop, "end"), b.ints(strides, "strides")]
    perm = x.perm
    if shrink:
        kept = [p for p in x.perm if p != dim]
        perm = tuple(sorted(kept).index(p) for p in kept)
    return b.emit("STRIDED_SLICE", ins, dict(shrink_axis_mask=1 << axis if shrink else 0),
                  perm=perm)


@converter("aten.select.int")
def select(b, node, x, dim, index):
    size = b.shape(x)[int(dim) % len(x.perm)]
    index = int(index) % size
    return slice_value(b, x, int(dim), index, index + 1, 1, shrink=True)


@converter("aten.slice.Tensor")
def slice_(b, node, x, dim=0, start=None, end=None, step=1):
    size = b.shape(x)[int(dim) % len(x.perm)]
    lo, hi, _ = slice(start, end, int(step)).indices(size)
    if (lo, hi) == (0, size) and int(step) == 1:
        return x
    return slice_value(b, x, int(dim), lo, max(hi, lo), int(step))


@converter("aten.split_with_sizes.default", "aten.split.Tensor")
def split(b, node, x, sizes, dim=0):
    n = b.shape(x)[int(dim) % len(x.perm)]
    if not isinstance(sizes, (list, tuple)):
        sizes = [min(int(sizes), n - i) for i in range(0, n, int(sizes))]
    starts = np.cumsum([0] + list(sizes))
    return tuple(slice_value(b, x, int(dim), int(a), int(e), 1)
                 for a, e in zip(starts[:-1], starts[1:]))
