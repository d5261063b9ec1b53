"""Tensors and quantization parameters of the fitml IR (NHWC, TFLite semantics)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

_INT64 = 1 << 63
DTYPES = ("float32", "int8", "uint8", "int16", "int32", "int64", "int4", "bool")


@dataclass(frozen=True, eq=False)
class QuantParams:
    """Affine quantization: real = scale * (q - zero_point), per tensor or along `axis`."""

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "scale", np.atleast_1d(np.asarray(self.scale, np.float32)))
        object.__setattr__(self, "zero_point",
                           np.atleast_1d(np.asarray(self.zero_point, np.int64)))

    @property
    def per_channel(self) -> bool:
        return self.axis is not None and self.scale.size > 1

    @property
    def s(self) -> float:
        """The scale of a per-tensor quantized tensor, as Python float (from float32)."""
        return float(self.scale[0])

    @property
    def zp(self) -> int:
        return int(self.zero_point[0])

    def same_as(self, other: "QuantParams | None") -> bool:
        return (other is not None and self.axis == other.axis
                and np.array_equal(self.scale, other.scale)
                and np.array_equal(self.zero_point, other.zero_point))


@dataclass(frozen=True, eq=False)
class Tensor:
    """A named value: an activation (data None) or a constant (data holds a numpy array)."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    data: np.ndarray | None = field(default=None, repr=False)
    quant: QuantParams | None = None

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))
        if self.dtype not in DTYPES:
            raise ValueError(f"tensor {self.name!r}: unknown dtype {self.dtype!r}")
        if self.data is not None:
            self.data.setflags(write=False)

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        n = math.prod(self.shape)        # exact and fast; numpy's int64 product beyond that
        return n if -_INT64 <= n < _INT64 else int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        """Bytes this tensor occupies on the device (int4 packs two values per byte)."""
        if self.dtype == "int4":
            return (self.size + 1) // 2
        return self.size * np.dtype(self.dtype).itemsize

    def replace(self, **changes) -> "Tensor":
        fields = dict(name=self.name, shape=self.shape, dtype=self.dtype, data=self.data,
                      quant=self.quant)
        fields.update(changes)
        return Tensor(**fields)
