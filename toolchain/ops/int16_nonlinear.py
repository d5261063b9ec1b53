"""int16 LOGISTIC and TANH as TFLite Micro's reference kernels compute them (SOFTMAX:
int16_softmax.py).

LOGISTIC / TANH (reference_integer_ops Logistic/Tanh int16, Prepare in logistic_common.cc /
tanh.cc): the input is rescaled to 1/(3*4096) per unit by an int16-sized multiplier and a right
shift, then a 256-entry table of sigmoid(i/24) (0.16 fixed point) is interpolated on |x|;
tanh(x) = 2*sigmoid(2x) - 1 reads the same table at twice the resolution. Outputs are Q0.15
(scale 2^-15, zero point 0, checked by Prepare through CheckedLog2).
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..ir import GraphError

# TFLite's sigmoid_table_uint16 was fitted for interpolation, not rounded: it is
# round(65536 * sigmoid(i / 24)) plus 1 where bit i of this mask is set (checked exhaustively
# against TFLite Micro by tests/test_ops_int16_nonlinear.py).
SIGMOID_TABLE_FIXUPS = int("800000000000000000000000000000800011009020440005c0467baefa7bd110", 16)


def sigmoid_table() -> np.ndarray:
    """TFLite's sigmoid(i/24) table (0.16 fixed point, i = 0..255) as int16 offsets from 32768
    (every entry is in [32768, 65535]; the C kernel stores them so)."""
    i = np.arange(256)
    rounded = fp.round_half_away(65536.0 / (1.0 + np.exp(-i / 24.0))).astype(np.int64)
    full = rounded + ((SIGMOID_TABLE_FIXUPS >> i.astype(object)) & 1).astype(np.int64)
    return (full - 32768).astype(np.int16)


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLite's CheckedLog2 in float32: (|frac(log2 x)| < 1e-3, round(log2 x))."""
    lg = np.float32(np.log(np.float32(x))) * (np.float32(1) / np.float32(np.log(np.float32(2))))
    r = float(fp.round_half_away(lg))
    return bool(abs(np.float32(lg - np.float32(r))) < np.float32(1e-3)), int(r)


def q3_input_params(kind: str, s_in: float) -> tuple[int, int]:
    """(multiplier, left shift) as LOGISTIC / TANH Prepare stores them (multiplier 0: the
    power-of-two case, the kernel then uses 3 << shift)."""
    pot, log2 = checked_log2(s_in)
    shift = 12 + log2
    if pot and (shift == 0 or (kind == "TANH" and shift == 1)):
        return 0, shift
    mult, shift = float(np.float32(s_in)) * 4096.0 * 3.0, 0
    while mult <= 32767.0 / 2.0 and shift <= 30:
        shift, mult = shift + 1, mult * 2.0
    if mult > 32767.0:
        raise GraphError(f"{kind}: int16 input scale {s_in:g} too large (TFLM's multiplier "
                         "exceeds 16 bits)")
    return int(mult), shift


def check_q15_output(kind: str, out) -> None:
    """Prepare's output check: zero point 0 and a scale that is 2^-15 (within CheckedLog2)."""
    pot, log2 = checked_log2(out.quant.s)
    if out.quant.zp != 0 or not pot or log2 != -15:
        raise GraphError(f"{kind}: int16 output must have scale 1/32768 and zero point 0, got "
                         f"scale {out.quant.s:g} zero point {out.quant.zp}")


def _rescale(q: np.ndarray, mult: int, shift: int) -> np.ndarray:
    if mult == 0:
        mult, shift = 3 << shift, 0
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    return (fp.i64(q) * mult + rnd) >> shift


def logistic_s16(q: np.ndarray, mult: int, shift: int) -> np.ndarray:
    x = _rescale(q, mult, shift)
    a = np.abs(x)
    uh = np.minimum(a >> 9, 254)
    table = sigmoid_table().astype(np.int64) + 32768
    ua, ub = table[uh], table[uh + 1]
    r = np.where((a >> 9) >= 255, 0x7FFF << 10, (ua << 9) + (a & 0x1FF) * (ub - ua))
    r = np.where(x >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1)
    return (r >> 10).astype(np.int16)


def tanh_s16(q: np.ndarray, mult: int, shift: int) -> np.ndarray:
    x = _rescale(q, mult, shift)
    a = np.abs(x)
    uh = np.minimum(a >> 8, 254)
    table = sigmoid_table().astype(np.int64) + 32768
    ua, ub = table[uh], table[uh + 1]
    r = np.where((a >> 8) >= 255, 0xFFFF << 8, (ua << 8) + (a & 0xFF) * (ub - ua))
    r = np.where(x >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1)
    return (r >> 8).astype(np.int16)
