"""Keras pooling layers: max / average windows, their global forms, and 1-D global average."""
from __future__ import annotations

import numpy as np

from .keras_builder import KerasBuilder, Layer, layer
from .keras_layers import channels_last, pair, padding, reshape


# --- pooling -------------------------------------------------------------------------------------
def pool(kind: str):
    def convert(b: KerasBuilder, L: Layer, ins):
        channels_last(b, L)
        size = pair(L.get("pool_size"), (2, 2))
        attrs = dict(filter=size, stride=pair(L.get("strides"), size), padding=padding(b, L),
                     activation="NONE")
        return [b.emit(kind, [ins[0]], attrs)]
    return convert


def global_pool(kind: str):
    """A window over the whole map, then RESHAPE to [N, C] unless keepdims."""
    def convert(b: KerasBuilder, L: Layer, ins):
        channels_last(b, L)
        n, h, w, c = b.shape(ins[0])
        attrs = dict(filter=(h, w), stride=(h, w), padding="VALID", activation="NONE")
        if L.get("keepdims", False):
            return [b.emit(kind, [ins[0]], attrs)]
        return [reshape(b, b.emit(kind, [ins[0]], attrs, "/pool"), (n, c))]
    return convert


layer("MaxPooling2D", "MaxPool2D", needs=("MAX_POOL_2D",))(pool("MAX_POOL_2D"))
layer("AveragePooling2D", "AvgPool2D", needs=("AVERAGE_POOL_2D",))(pool("AVERAGE_POOL_2D"))
layer("GlobalAveragePooling2D", "GlobalAvgPool2D",
      needs=("AVERAGE_POOL_2D", "RESHAPE"))(global_pool("AVERAGE_POOL_2D"))
layer("GlobalMaxPooling2D", "GlobalMaxPool2D",
      needs=("MAX_POOL_2D", "RESHAPE"))(global_pool("MAX_POOL_2D"))


@layer("GlobalAveragePooling1D", "GlobalAvgPool1D", needs=("MEAN",))
def global_average_1d(b: KerasBuilder, L: Layer, ins):
    channels_last(b, L)
    axis = b.const(np.array([1], np.int32), f"{L.name}/axis", "int32")
    return [b.emit("MEAN", [ins[0], axis], dict(keep_dims=bool(L.get("keepdims", False))))]
