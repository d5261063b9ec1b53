"""Helpers the op files' `lower_c` methods share to build kernel parameters for the C runtime.

Each op file lowers itself (`OpDef.lower_c(node) -> CCall`); this module holds only what
several of them need: tensor references, shapes and strides, clamps, requantization arrays,
folded biases, broadcast and gather walks. All arithmetic setup calls the same functions the op
references use, so the C kernels see exactly the integers the numpy spec computes with. The
dict keys are the C field names (checked against `cruntime.STRUCTS` by the tests).

Folded bias (conv, depthwise, FC int8): bias[c] - zp_in * sum(filter[c]), wrapped to int32, so
the kernels' inner loops multiply raw int8 data; padded conv taps read zp_in.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses

import numpy as np

from ..ops import common
from ..ops.registry import Node
from ..quant import fixedpoint as fp
from .clower import CArray, CCall, Scratch, TensorRef
from .cruntime import MAX_DIMS

FLT_MAX = float(np.finfo(np.float32).max)
CLAMP_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def ref(t) -> TensorRef:
    return TensorRef(t.name)


def i32(values) -> CArray:
    return CArray(np.asarray(values, np.int64).astype(np.int32), "int32_t")


def dims(shape) -> dict:
    n, h, w, c = shape
    return dict(n=n, h=h, w=w, c=c)


def strides(shape) -> list[int]:
    """Row-major element strides."""
    out, acc = [], 1
    for d in reversed(shape):
        out.insert(0, acc)
        acc *= d
    return out


def float_bounds(act: str) -> tuple[float, float]:
    """Clamp of a float op's fused activation, from the reference's own clamp."""
    lo, hi = common.float_clamp(np.array([-FLT_MAX, FLT_MAX], np.float32), act)
    return float(lo), float(hi)


def requant(mult, shift) -> dict:
    mult, shift = np.atleast_1d(mult), np.atleast_1d(shift)
    per_channel = int(mult.size > 1 and not (np.all(mult == mult[0])
                                             and np.all(shift == shift[0])))
    if not per_channel:
        mult, shift = mult[:1], shift[:1]
    return dict(multiplier=i32(mult), shift=i32(shift), per_channel=per_channel)


def bias_of(node: Node):
    """The optional bias tensor (input 2) or None."""
    return node.ins[2] if len(node.ins) > 2 else None


def folded_bias(node: Node, sums: np.ndarray, zp_in: int) -> CArray:
    bias_t = bias_of(node)
    bias = np.zeros(sums.shape, np.int64) if bias_t is None else bias_t.data.astype(np.int64)
    return CArray(fp.wrap32(bias - zp_in * sums).astype(np.int32), "int32_t", role="weights")


def float_fields(node: Node) -> dict:
    """bias (or NULL) and the fused clamp of a float32 conv / depthwise / FC."""
    lo, hi = float_bounds(node.attr("activation", "NONE"))
    bias_t = bias_of(node)
    return dict(bias=ref(bias_t) if bias_t is not None else "NULL", act_min=lo, act_max=hi)


def int8_fields(node: Node, sums: np.ndarray, mult, shift) -> dict:
    """Folded bias, requantization, output zero point and clamp of an int8 weighted op."""
    out = node.outs[0]
    lo, hi = common.output_bounds(node.attr("activation", "NONE"), out)
    return dict(bias=folded_bias(node, sums, common.qparams(node.ins[0])[1]),
                requant=requant(mult, shift), output_zp=out.quant.zp, act_min=lo, act_max=hi)


def collapse(dims, *stride_lists, max_rank: int = MAX_DIMS):
    """Drop size-1 dims and merge neighbours that are contiguous in every stride list."""
    keep = [i for i, d in enumerate(dims) if d != 1]
    out_dims = [int(dims[i]) for i in keep] or [1]
    out_strides = [[int(s[i]) for i in keep] or [0] for s in stride_lists]
    i = len(out_dims) - 1
    while i > 0:
        if all(s[i - 1] == s[i] * out_dims[i] for s in out_strides):
            out_dims[i - 1] *= out_dims[i]
            del out_dims[i]
            for s in out_strides:
                s[i - 1] = s[i]
                del s[i]
        i -= 1
    if len(out_dims) > max_rank:
        raise ValueError(f"walk of rank {len(out_dims)} exceeds the runtime's {max_rank}")
    pad = [0] * (max_rank - len(out_dims))
    return len(out_dims), out_dims + pad, *[s + pad for s in out_strides]


def walk(dims, steps) -> dict:
    rank, d, s = collapse(dims, steps)
    return dict(rank=rank, dims=d, strides=s)


def broadcast(node: Node) -> dict:
    """fitml_broadcast of a binary op: output dims, each input's strides (0 where broadcast)."""
    out = node.outs[0].shape
    lists = []
    for t in node.ins[:2]:
        shape = (1,) * (len(out) - len(t.shape)) + tuple(t.shape)
        lists.append([s if d != 1 else 0 for d, s in zip(shape, strides(shape))])
    rank, d, s1, s2 = collapse(list(out), *lists)
    return dict(rank=rank, dims=d, strides1=s1, strides2=s2)


def binary_io(node: Node) -> tuple:
    return ref(node.ins[0]), ref(node.ins[1]), ref(node.outs[0])


def in_place(call: CCall, node: Node) -> CCall:
    """Mark an element-by-element kernel call as able to write over an input of the output's
    shape and dtype (the kernel reads element i before it writes element i); the planner then
    shares that input's bytes when it dies here."""
    out = node.outs[0]
    for k, t in enumerate(node.ins):
        if t is not None and not t.is_const and t.shape == out.shape and t.dtype == out.dtype:
            return dataclasses.replace(call, inplace_input=k)
    return call


def binary_f32(node: Node) -> CCall:
    """float32 ADD / SUB / MUL: fitml_<op>_f32 over the broadcast walk, then the clamp."""
    act = node.attr("activation", "NONE")
    if act not in CLAMP_ACTIVATIONS:    # the reference applies TANH / SIGN_BIT for real
        raise unsupported(node, f"fused activation {act}")
    lo, hi = float_bounds(act)
    return in_place(CCall(f"fitml_{node.op.kind.lower()}_f32", "fitml_binary_f32_params",
                          dict(bc=broadcast(node), act_min=lo, act_max=hi), binary_io(node)),
                    node)


def conv_geom(node: Node, filter_dims) -> dict:
    x, out = node.ins[0], node.outs[0]
    kh, kw = filter_dims[1], filter_dims[2]
    (sh, sw), (dh, dw) = node.attr("stride", (1, 1)), node.attr("dilation", (1, 1))
    return dict(input=dims(x.shape), filter=dims(filter_dims), output=dims(out.shape),
                stride_h=sh, stride_w=sw, dilation_h=dh, dilation_w=dw,
                pad_h=common.pad_before(x.shape[1], kh, sh, dh, out.shape[1]),
                pad_w=common.pad_before(x.shape[2], kw, sw, dw, out.shape[2]))


def io(node: Node, *extra) -> tuple:
    """Kernel arguments: the first input, the output, then `extra` (e.g. Scratch())."""
    return (*(ref(t) for t in node.ins[:1]), ref(node.outs[0]), *extra)


def check_filter(node: Node) -> None:
    """A float or int8 conv-like op: filter dtype must match (hybrid ops lower elsewhere)."""
    x, w = node.ins[0], node.ins[1]
    want = ("float32",) if x.dtype == "float32" else ("int8", "int4")
    if x.dtype not in ("float32", "int8") or w.dtype not in want:
        raise NotImplementedError(f"{node.op.kind}: {w.dtype} filter with {x.dtype} input "
                                  "has no C kernel")


def requantize_call(node: Node, kernel: str, mult: int, shift: int, lo: int, hi: int) -> CCall:
    """int8 -> int8 elementwise requantization (QUANTIZE int8->int8, RELU int8)."""
    zp_in, zp_out = common.qparams(node.ins[0])[1], common.qparams(node.outs[0])[1]
    return in_place(CCall(kernel, "fitml_requantize_s8_params",
                          dict(size=node.ins[0].size, input_zp=zp_in, output_zp=zp_out,
                               multiplier=mult, shift=shift, act_min=lo, act_max=hi), io(node)),
                    node)


def gather(node: Node, dims, steps, offset: int) -> CCall:
    """TRANSPOSE / STRIDED_SLICE: a strided walk of the input copied to the output in order."""
    kind = "transpose" if node.op.kind == "TRANSPOSE" else "strided_slice"
    return CCall(f"fitml_{kind}", f"fitml_{kind}_params",
                 dict(walk=walk(dims, steps), offset=int(offset),
                      elem_size=np.dtype(node.ins[0].dtype).itemsize), io(node))


def alias(node: Node) -> CCall:
    """RESHAPE-like ops: no kernel, the output shares the input's bytes."""
    return CCall("", None, alias_of=node.ins[0].name)


def unsupported(node: Node, why: str = "") -> NotImplementedError:
    """The error a lowering raises when the runtime has no kernel for this node."""
    dtypes = "/".join(t.dtype for t in node.ins if t is not None)
    return NotImplementedError(f"{node.op.kind} ({dtypes}): no C runtime kernel"
                               + (f": {why}" if why else ""))



# ---- DSP kernel specializations (runtime_c/src/dsp): extra arrays the portable C ignores ----

def acc_bounds(w_rows: np.ndarray, bias: np.ndarray, zp_in: int) -> np.ndarray:
    """Per output channel, the largest |acc| any int8 input can give: sum|w| * max|x - zp_in|
    + |bias| (padded taps read zp_in and add nothing)."""
    span = max(127 - int(zp_in), int(zp_in) + 128)
    return np.abs(w_rows.astype(np.int64)).sum(axis=1) * span + np.abs(bias.astype(np.int64))


def fast_requant(node: Node, w_rows: np.ndarray, mult, shift, pre_doubled: bool):
    """FITML_FAST_REQUANT records {acc_init, multiplier, round, right_shift} per channel, or NULL
    when the fast path cannot be proven exact (see fitml_types.h): it needs a right shift
    (shift <= -1) and |acc| < 2^30 for every int8 input so that 2*acc and the rounding sums
    stay within int32. acc_init is the folded bias, doubled when the kernel's filter is."""
    cout = w_rows.shape[0]
    mult = np.broadcast_to(np.asarray(mult, np.int64), (cout,))
    shift = np.broadcast_to(np.asarray(shift, np.int64), (cout,))
    zp_in, zp_out = common.qparams(node.ins[0])[1], common.qparams(node.outs[0])[1]
    bias_t = bias_of(node)
    bias = np.zeros(cout, np.int64) if bias_t is None else bias_t.data.astype(np.int64)
    bound = acc_bounds(w_rows, bias, zp_in)
    init = (bias - zp_in * w_rows.astype(np.int64).sum(axis=1)) * (2 if pre_doubled else 1)
    # Channels whose output cannot depend on the input get {0, m = 0, 2 * out + 1, 1}, which
    # yields `out` without large constants: all-zero filters (acc == bias) and channels whose
    # |SRDHM(acc, m)| <= bound + 1 stays below 2^(e-1) (the output is always zp).
    e = np.minimum(-shift, 62)
    dead = ~np.any(w_rows != 0, axis=1)
    small = (shift < 0) & (bound + 1 < (np.int64(1) << np.maximum(e - 1, 0)))
    const = dead | small
    lo, hi = common.output_bounds(node.attr("activation", "NONE"), node.outs[0])
    value = np.where(dead, common.requantize(fp.wrap32(bias), mult, shift, zp_out, lo, hi), zp_out)
    mult, e = np.where(const, 0, mult), np.where(const, 1, e)
    init, bound = np.where(const, 0, init), np.where(const, 0, bound)
    if np.any(shift[~const] > -1) or np.any(bound >= 1 << 30):
        return "NULL"
    rnd = np.where(const, 2 * value.astype(np.int64) + 1,
                   (np.int64(1) << (e - 1)) + np.int64(zp_out) * (np.int64(1) << e))
    if np.any(bound + 2 + np.abs(rnd) >= 1 << 31):
        return "NULL"
    return i32(np.stack([init, mult, rnd, e], axis=1))


def conv_scratch_bytes(geom: dict) -> int:
    """fitml_conv_s8_scratch_bytes (fitml_support.h): what every variant of the kernel needs."""
    f = geom["filter"]
    depth = f["h"] * f["w"] * f["c"]
    d4 = (depth + 3) // 4 * 4
    if f["c"] == geom["input"]["c"]:        # no groups: the DSP kernel's 4 widened patches
        return 9 * d4 + 4 * geom["output"]["c"]
    in_place = f["h"] == f["w"] == 1 and geom["pad_h"] == geom["pad_w"] == 0
    return 0 if in_place else depth


_VARIANT = contextvars.ContextVar("fitml_kernel_variant", default="portable")


@contextlib.contextmanager
def kernel_variant(variant: str):
    """Lower for one runtime variant ("portable", "dsp", "mve"): only DSP/MVE builds carry the
    arrays their fast kernels read (int16 weight layouts, ADD tables), so portable builds pay
    no flash for them."""
    token = _VARIANT.set(variant)
    try:
        yield
    finally:
        _VARIANT.reset(token)


def current_variant() -> str:
    """The runtime variant lowering is for (the kernel_variant() context; "portable")."""
    return _VARIANT.get()


def fast_kernels() -> bool:
    """True when the build links DSP or MVE kernels."""
    return _VARIANT.get() in ("dsp", "mve")


_PLAIN = contextvars.ContextVar("fitml_plain_layouts", default=frozenset())


@contextlib.contextmanager
def plain_layouts(layers):
    """Within: the ops writing these tensors get no DSP weight layout (filter_dsp NULL: their
    int8 path), as when a layout would not fit the flash (backends/clayouts.py)."""
    token = _PLAIN.set(frozenset(layers))
    try:
        yield
    finally:
        _PLAIN.reset(token)


def current_plain() -> frozenset:
    """The layers plain_layouts() keeps without DSP layouts."""
    return _PLAIN.get()


def wants_layout(node: Node) -> bool:
    """Emit a DSP/MVE kernel's pre-widened weight layout for this op: a fast build, and the
    op not asked to keep its plain int8 weights (plain_layouts)."""
    return fast_kernels() and node.outs[0].name not in _PLAIN.get()


def depthwise_dsp_ok(geom: dict, multiplier: int) -> bool:
    """fitml_depthwise_dsp_ok: 3x3, depth multiplier 1, no dilation, channels % 4 == 0."""
    f = geom["filter"]
    return (multiplier == 1 and f["h"] == f["w"] == 3 and geom["dilation_h"] == 1
            and geom["dilation_w"] == 1 and geom["output"]["c"] % 4 == 0)


def depthwise_scratch_bytes(geom: dict, multiplier: int) -> int:
    """fitml_depthwise_conv_s8_scratch_bytes: accumulators, or the DSP path's 3 padded rows."""
    acc = 4 * geom["output"]["c"]
    if not depthwise_dsp_ok(geom, multiplier):
        return acc
    width = (geom["output"]["w"] - 1) * geom["stride_w"] + 3
    return max(acc, 3 * width * geom["input"]["c"])


def int16_words(words) -> np.ndarray:
    """int32 words as little-endian int16 halves (one int16 array mixing both)."""
    return np.ascontiguousarray(np.asarray(words, np.int64).astype(np.int32)).view(np.int16)


def depthwise_dsp_layout(node: Node, rows: np.ndarray, mult, shift):
    """filter_dsp of a DEPTHWISE_CONV_2D for the DSP kernel, or "NULL" (portable path).

    The kernel computes 4 channels of one pixel per pass, walking one int16 array per
    4-channel group: {init0..3 (doubled folded bias), taps 0..8 as (w_c0, w_c2), (w_c1, w_c3)
    int16 pairs (doubled), (m, round, shift) x 4}: 34 words. It needs the fast requantization
    and no clamp inside int8 (SSAT is the kernel's only clamp)."""
    if not wants_layout(node):
        return "NULL"
    cout = rows.shape[0]
    lo, hi = common.output_bounds(node.attr("activation", "NONE"), node.outs[0])
    fast = fast_requant(node, rows, mult, shift, pre_doubled=True)
    if isinstance(fast, str) or (lo, hi) != (-128, 127) or cout % 4:
        return "NULL"
    g = cout // 4
    rec = fast.values.astype(np.int64).reshape(g, 4, 4)
    taps = (2 * rows).reshape(g, 4, 9)[:, [0, 2, 1, 3], :].transpose(0, 2, 1)   # [g][tap][ch]
    parts = [int16_words(rec[:, :, 0]).reshape(g, 8), taps.astype(np.int16).reshape(g, 36),
             int16_words(rec[:, :, 1:].reshape(g, 12)).reshape(g, 24)]
    return CArray(np.concatenate(parts, axis=1), "int16_t", role="weights")


# Conv layers get the DSP kernel's int16 4-channel layout when their patch has at most this
# many taps (where the int8 path's per-channel work dominates) or their filter at most this
# many weights: it costs 2 bytes of flash per weight (the int8 filter stays for the portable
# kernel), so large filters keep the int8 path.
CONV_DSP_I16_MAX_DEPTH = 64
CONV_DSP_I16_MAX_WEIGHTS = 8192


def conv_s8_call(node: Node, filt: np.ndarray, filter_value, mult, shift) -> CCall:
    """The int8 CONV_2D kernel call for `filt` [C_out][KH][KW][C_in/groups] (given to C as
    `filter_value`: the weight tensor, or a CArray of a rearranged filter), with the DSP
    kernel's fast records and, where it pays, its int16 layout; the scratch holds im2col
    patches (the DSP kernel widens 4 at a time, see fitml_support.h)."""
    x = node.ins[0]
    geom = conv_geom(node, filt.shape)
    rows = np.asarray(filt, np.int64).reshape(filt.shape[0], -1)
    grouped = filt.shape[3] != x.shape[3]         # the DSP kernel runs the portable code
    fast = "NULL" if grouped or not fast_kernels() else fast_requant(node, rows, mult, shift,
                                                                      False)
    filter_dsp, fast = conv_dsp_layout(node, rows, fast, grouped)
    params = dict(geom=geom, filter=filter_value, input_zp=common.qparams(x)[1],
                  **int8_fields(node, rows.sum(axis=1), mult, shift),
                  fast_requant=fast, filter_dsp=filter_dsp)
    return CCall("fitml_conv_s8", "fitml_conv_s8_params", params, io(node, Scratch()),
                 scratch_bytes=conv_scratch_bytes(geom))


def conv_dsp_layout(node: Node, rows: np.ndarray, fast, grouped: bool) -> tuple:
    """(filter_dsp, fast_requant) of a CONV_2D for the DSP kernel's int16 path, or
    ("NULL", fast) to keep its int8 path. The int16 path needs no groups, C_out % 4 == 0, the
    fast records and no clamp inside int8 (SSAT is the only clamp); it computes 4 channels of
    one pixel per pass from filter_dsp [C_out/4][depth4/4][4 channels][4 int16]: taps
    (k0, k2, k1, k3) of each 4-deep block, doubled, and regroups the records per 4 channels as
    {init0..3 (doubled), (m, round, shift) x 4}."""
    if not wants_layout(node):
        return "NULL", fast
    cout, depth = rows.shape
    lo, hi = common.output_bounds(node.attr("activation", "NONE"), node.outs[0])
    if (isinstance(fast, str) or grouped or cout % 4 or (lo, hi) != (-128, 127)
            or (depth > CONV_DSP_I16_MAX_DEPTH and rows.size > CONV_DSP_I16_MAX_WEIGHTS)):
        return "NULL", fast
    taps = dual_mac_taps(rows, cout // 4)
    rec = fast.values.astype(np.int64).reshape(cout // 4, 4, 4)      # acc_init not doubled yet
    grouped = np.concatenate([2 * rec[:, :, 0], rec[:, :, 1:].reshape(cout // 4, 12)], axis=1)
    return CArray(taps, "int16_t", role="weights"), i32(grouped)


def addsub_lut(zp1: int, zp2: int, zp_out: int, params, sign: int):
    """FITML_ADD_LUT words of an int8 ADD (sign 1) / SUB (-1) for the DSP kernel, or NULL.

    Each input's rescaling (shift by 20, then its own MBQM) depends on its code alone, so it
    is tabulated (doubled, the SUB operand negated); the kernel adds two table words and
    requantizes with a fast record, which needs the sum's bound below 2^30 and a right shift."""
    if not fast_kernels():
        return "NULL"
    (m1, e1), (m2, e2), (mo, eo) = params
    q = np.arange(-128, 128, dtype=np.int64)
    t1 = fp.rdbpot(fp.srdhm((q - zp1) << 20, m1), -e1)
    t2 = sign * fp.rdbpot(fp.srdhm((q - zp2) << 20, m2), -e2)
    bound = int(np.abs(t1).max() + np.abs(t2).max())
    if eo > -1 or eo < -30 or bound >= 1 << 30:
        return "NULL"
    rnd = (1 << (-eo - 1)) + zp_out * (1 << -eo)
    if bound + 2 + abs(rnd) >= 1 << 31:
        return "NULL"
    return i32(np.concatenate([2 * t1, 2 * t2, [mo, rnd, -eo]]))


def dual_mac_taps(rows: np.ndarray, groups: int) -> np.ndarray:
    """Doubled int16 taps [groups][depth4/4][4 rows][k0, k2, k1, k3] (SXTB16 lane order) of
    int8 rows [n][depth], padded with zero rows and columns."""
    n, depth = rows.shape
    d4 = (depth + 3) // 4 * 4
    taps = np.pad(rows, ((0, 4 * groups - n), (0, d4 - depth))).reshape(groups, 4, d4 // 4, 4)
    return (2 * taps.transpose(0, 2, 1, 3)[..., [0, 2, 1, 3]]).astype(np.int16)


def fc_dsp_layout(node: Node, rows: np.ndarray, mult, shift):
    """filter_dsp of an int8 FULLY_CONNECTED for the DSP kernel, or "NULL" (portable path).

    Rows are computed 4 at a time; per group one int16 stream: {init0..3 (doubled folded
    bias), taps [depth4/4][4 rows][4] (dual_mac_taps), (m, round, shift) x 4}. Rows padded
    to a multiple of 4 get {0, 0, 1, 1} records (their output, 0, is not stored). Needs the
    fast requantization and no clamp inside int8."""
    if not wants_layout(node):
        return "NULL"
    n = rows.shape[0]
    lo, hi = common.output_bounds(node.attr("activation", "NONE"), node.outs[0])
    fast = fast_requant(node, rows, mult, shift, pre_doubled=True)
    if isinstance(fast, str) or (lo, hi) != (-128, 127):
        return "NULL"
    g = (n + 3) // 4
    rec = np.concatenate([fast.values.astype(np.int64).reshape(n, 4),
                          np.tile([0, 0, 1, 1], (4 * g - n, 1))]).reshape(g, 4, 4)
    parts = [int16_words(rec[:, :, 0]).reshape(g, 8), dual_mac_taps(rows, g).reshape(g, -1),
             int16_words(rec[:, :, 1:].reshape(g, 12)).reshape(g, 24)]
    return CArray(np.concatenate(parts, axis=1), "int16_t", role="weights")


def s16_dsp_filter(rows: np.ndarray, unit: int) -> CArray:
    """int8 filter rows of a 16x8 CONV_2D / FULLY_CONNECTED for the DSP kernels
    (runtime_c/src/dsp/fitml_dsp_s16.h): each row cut into units of `unit` weights, and in each
    unit the blocks of 4 stored (k0, k2, k1, k3), so SXTB16 / SXTB16 ROR 8 of a block's word
    give the int16 pairs (k0, k1), (k2, k3) that meet two int16 inputs read as one word; the
    last unit % 4 weights of a unit stay in order. Same size as the filter."""
    n = rows.shape[0]
    units = np.asarray(rows, np.int8).reshape(n, -1, unit)
    full = unit // 4 * 4
    blocks = units[:, :, :full].reshape(n, units.shape[1], full // 4, 4)[..., [0, 2, 1, 3]]
    out = np.concatenate([blocks.reshape(n, units.shape[1], full), units[:, :, full:]], axis=2)
    return CArray(out, "int8_t", role="weights")
