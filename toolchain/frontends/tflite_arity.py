"""How many inputs each TFLite builtin takes (what TFLite's and TFLM's kernels accept).

A .tflite operator's input list comes from the file: a FULLY_CONNECTED with 9 inputs is
malformed, and the op files read only the inputs they know, so the reader refuses it by name.
Optional inputs count when present as -1 (absent) entries, as TFLite writes them.
"""
from __future__ import annotations

from ..errors import ModelError

# kind -> (fewest, most) inputs; most None: no upper bound.
INPUTS: dict[str, tuple[int, int | None]] = {
    "ADD": (2, 2), "SUB": (2, 2), "MUL": (2, 2),
    "MAXIMUM": (2, 2), "MINIMUM": (2, 2), "SQUARED_DIFFERENCE": (2, 2), "DIV": (2, 2),
    "BATCH_MATMUL": (2, 2), "FLOOR_DIV": (2, 2), "ADD_N": (2, None),
    "ABS": (1, 1), "NEG": (1, 1), "LOG_SOFTMAX": (1, 1), "EXP": (1, 1), "SQRT": (1, 1),
    "RSQRT": (1, 1), "SELECT": (3, 3), "SELECT_V2": (3, 3), "CAST": (1, 1),
    "ZEROS_LIKE": (1, 1),
    "AVERAGE_POOL_2D": (1, 1), "MAX_POOL_2D": (1, 1), "L2_POOL_2D": (1, 1),
    "L2_NORMALIZATION": (1, 1), "ELU": (1, 1),
    "CONCATENATION": (1, None),
    "CONV_2D": (2, 3), "DEPTHWISE_CONV_2D": (2, 3), "FULLY_CONNECTED": (2, 3),
    "TRANSPOSE_CONV": (3, 4),
    "DEQUANTIZE": (1, 1), "QUANTIZE": (1, 1),
    "HARD_SWISH": (1, 1), "LEAKY_RELU": (1, 1), "PRELU": (2, 2), "LOGISTIC": (1, 1),
    "RELU": (1, 1), "RELU6": (1, 1), "TANH": (1, 1), "SOFTMAX": (1, 1),
    "MEAN": (2, 2), "SUM": (2, 2), "REDUCE_MAX": (2, 2), "PAD": (2, 2), "PADV2": (2, 3),
    "RESHAPE": (1, 2), "SQUEEZE": (1, 1), "EXPAND_DIMS": (2, 2),
    "STRIDED_SLICE": (4, 4), "SLICE": (3, 3), "TRANSPOSE": (2, 2),
    "SPLIT": (2, 2), "SPLIT_V": (3, 3), "PACK": (1, None), "UNPACK": (1, 1),
    "RESIZE_NEAREST_NEIGHBOR": (2, 2), "RESIZE_BILINEAR": (2, 2),
    "GATHER": (2, 2), "ARG_MAX": (2, 2), "ARG_MIN": (2, 2), "DEPTH_TO_SPACE": (1, 1),
    "SPACE_TO_DEPTH": (1, 1),
    "SHAPE": (1, 1), "CUMSUM": (2, 2), "EMBEDDING_LOOKUP": (2, 2), "GATHER_ND": (2, 2),
    "MIRROR_PAD": (2, 2), "SPACE_TO_BATCH_ND": (3, 3),
    "BATCH_TO_SPACE_ND": (3, 3), "FILL": (2, 2), "BROADCAST_TO": (2, 2), "BROADCAST_ARGS": (2, 2),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": (20, 24),
}


def check_arity(kind: str, inputs: list[str], where: str) -> None:
    """A ModelError naming the operator when its input count is not one TFLite accepts."""
    span = INPUTS.get(kind)
    if span is None:
        return
    low, high = span
    if low <= len(inputs) and (high is None or len(inputs) <= high):
        return
    want = (f"{low}" if low == high else f"at least {low}" if high is None
            else f"{low} to {high}")
    raise ModelError(f"{where}: has {len(inputs)} inputs, {kind} takes {want}")
