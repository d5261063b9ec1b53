"""Keras layers that move, combine or pass tensors through: Flatten, Reshape, Permute,
ZeroPadding2D, UpSampling2D, Embedding; the merges (Add, Subtract, Multiply, Average, Maximum,
Minimum, Concatenate); the inference identities (Dropout and its kin) and Rescaling."""
from __future__ import annotations

import numpy as np

from .keras_builder import KerasBuilder, Layer, layer
from .keras_layers import chain, channels_last, pair, positive_axis, reshape


# --- shape ---------------------------------------------------------------------------------------
@layer("Flatten", needs=("RESHAPE",))
def flatten(b: KerasBuilder, L: Layer, ins):
    shape = b.shape(ins[0])
    return [reshape(b, ins[0], (shape[0], int(np.prod(shape[1:], dtype=np.int64))))]


@layer("Reshape", needs=("RESHAPE",))
def reshape_layer(b: KerasBuilder, L: Layer, ins):
    shape = b.shape(ins[0])
    target = [int(d) for d in L.get("target_shape")]
    if target.count(-1) == 1:
        known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
        target[target.index(-1)] = int(np.prod(shape[1:], dtype=np.int64)) // max(known, 1)
    return [reshape(b, ins[0], (shape[0], *target))]


@layer("Embedding", needs=("CAST", "RESHAPE", "EMBEDDING_LOOKUP"))
def embedding(b: KerasBuilder, L: Layer, ins):
    """Table rows by id: the (float) ids cast to int32 as Keras casts them (truncating), one
    EMBEDDING_LOOKUP over the flattened ids, reshaped to the ids' shape + (output_dim,)."""
    if L.get("mask_zero"):
        raise b.error("mask_zero=True is not supported (the layers after it would read the "
                      "mask)")
    table = L.weights()[0]
    shape = b.shape(ins[0])
    ids = ins[0]
    if b.tensors[ids].dtype != "int32":
        ids = b.emit("CAST", [ids], dict(dtype="int32"), "/ids")
    flat = reshape(b, ids, (int(np.prod(shape, dtype=np.int64)),), "/flat")
    rows = b.emit("EMBEDDING_LOOKUP", [flat, b.const(table, f"{L.name}/embeddings")], {},
                  "/lookup")
    return [reshape(b, rows, (*shape, *table.shape[1:]))]


@layer("Permute", needs=("TRANSPOSE",))
def permute(b: KerasBuilder, L: Layer, ins):
    perm = b.const(np.array([0, *L.get("dims")], np.int32), f"{L.name}/perm", "int32")
    return [b.emit("TRANSPOSE", [ins[0], perm])]


@layer("ZeroPadding2D", needs=("PAD",))
def zero_padding(b: KerasBuilder, L: Layer, ins):
    channels_last(b, L)
    pad = L.get("padding", ((1, 1), (1, 1)))
    if isinstance(pad, int):
        pad = ((pad, pad), (pad, pad))
    pad = [pair(p) if not isinstance(p, int) else (p, p) for p in pad]
    paddings = np.array([(0, 0), *pad, (0, 0)], np.int32)
    return [b.emit("PAD", [ins[0], b.const(paddings, f"{L.name}/paddings", "int32")])]


@layer("UpSampling2D", needs=("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"))
def up_sampling(b: KerasBuilder, L: Layer, ins):
    """tf.image.resize by an integer factor: half-pixel centres, as Keras resizes."""
    channels_last(b, L)
    mode = L.get("interpolation", "nearest")
    kinds = {"nearest": "RESIZE_NEAREST_NEIGHBOR", "bilinear": "RESIZE_BILINEAR"}
    if mode not in kinds:
        raise b.error(f"interpolation {mode!r} is not supported (nearest or bilinear)")
    fh, fw = pair(L.get("size", (2, 2)))
    _, h, w, _ = b.shape(ins[0])
    size = b.const(np.array([h * fh, w * fw], np.int32), f"{L.name}/size", "int32")
    return [b.emit(kinds[mode], [ins[0], size], dict(half_pixel_centers=True))]


# --- merges --------------------------------------------------------------------------------------
layer("Add", needs=("ADD",))(lambda b, L, ins: [chain(b, "ADD", list(ins))])
layer("Multiply", needs=("MUL",))(lambda b, L, ins: [chain(b, "MUL", list(ins))])
layer("Maximum", needs=("MAXIMUM",))(lambda b, L, ins: [chain(b, "MAXIMUM", list(ins))])
layer("Minimum", needs=("MINIMUM",))(lambda b, L, ins: [chain(b, "MINIMUM", list(ins))])


@layer("Subtract", needs=("SUB",))
def subtract(b: KerasBuilder, L: Layer, ins):
    if len(ins) != 2:
        raise b.error(f"Subtract needs exactly two inputs, got {len(ins)}")
    return [b.emit("SUB", list(ins), dict(activation="NONE"))]


@layer("Average", needs=("ADD", "MUL"))
def average(b: KerasBuilder, L: Layer, ins):
    total = chain(b, "ADD", list(ins), "/sum")
    k = b.const(np.float32(1.0 / len(ins)), f"{L.name}/reciprocal")
    return [b.emit("MUL", [total, k], dict(activation="NONE"))]


@layer("Concatenate", needs=("CONCATENATION",))
def concatenate(b: KerasBuilder, L: Layer, ins):
    axis = positive_axis(b, L.get("axis", -1), len(b.shape(ins[0])))
    return [b.emit("CONCATENATION", list(ins), dict(axis=axis, activation="NONE"))]


# --- identities and preprocessing ---------------------------------------------------------------
layer("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout",
      "GaussianDropout", "GaussianNoise", "ActivityRegularization",
      "Identity")(lambda b, L, ins: list(ins))


@layer("Rescaling", needs=("MUL", "ADD"))
def rescaling(b: KerasBuilder, L: Layer, ins):
    scale = np.asarray(L.get("scale", 1.0), np.float32)
    offset = np.asarray(L.get("offset", 0.0), np.float32)
    x = ins[0]
    if np.any(scale != 1):
        x = b.emit("MUL", [x, b.const(scale, f"{L.name}/scale")], dict(activation="NONE"),
                   "/scaled" if np.any(offset != 0) else "")
    if np.any(offset != 0):
        x = b.emit("ADD", [x, b.const(offset, f"{L.name}/offset")], dict(activation="NONE"))
    return [x]
