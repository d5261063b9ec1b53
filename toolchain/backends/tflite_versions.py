"""The operator versions the .tflite writer records, as TFLite's converter would."""
from __future__ import annotations

# Operator versions, after TFLite's tools/versioning/op_version.cc: what the converter writes
# for the common cases. TFLM ignores versions; LiteRT only needs one its kernels register.
# By first-input dtype; unlisted (kind, dtype) pairs are version 1.
VERSIONS = {
    "int8": {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4, "TRANSPOSE_CONV": 2,
             "ADD": 2, "SUB": 2, "MUL": 2, "AVERAGE_POOL_2D": 2, "MAX_POOL_2D": 2,
             "SOFTMAX": 2, "LOG_SOFTMAX": 2, "LOGISTIC": 2, "TANH": 2, "RELU": 2, "RELU6": 2,
             "CONCATENATION": 2, "PAD": 2, "PADV2": 2, "MEAN": 2, "SUM": 2, "REDUCE_MAX": 2,
             "REDUCE_MIN": 2, "TRANSPOSE": 2, "STRIDED_SLICE": 2, "SLICE": 2, "SPLIT_V": 2,
             "GATHER": 2, "DEQUANTIZE": 2, "MAXIMUM": 2, "MINIMUM": 2, "PACK": 2, "UNPACK": 2,
             "RESIZE_NEAREST_NEIGHBOR": 2, "RESIZE_BILINEAR": 2, "BATCH_TO_SPACE_ND": 2,
             "SPACE_TO_BATCH_ND": 2, "SPACE_TO_DEPTH": 2, "DEPTH_TO_SPACE": 2, "ARG_MAX": 2,
             "ARG_MIN": 2, "SQUARED_DIFFERENCE": 2, "BATCH_MATMUL": 2, "TILE": 3, "GELU": 2,
             "EXP": 2, "LOG": 2, "EQUAL": 2, "NOT_EQUAL": 2, "LESS": 2, "GREATER": 2,
             "GATHER_ND": 2, "L2_NORMALIZATION": 2, "MIRROR_PAD": 2},
    "int16": {"CONV_2D": 4, "DEPTHWISE_CONV_2D": 5, "FULLY_CONNECTED": 7, "ADD": 3, "SUB": 5,
              "MUL": 4, "AVERAGE_POOL_2D": 3, "MAX_POOL_2D": 3, "SOFTMAX": 3, "LOGISTIC": 3,
              "TANH": 3, "RELU": 3, "RELU6": 3, "LEAKY_RELU": 2, "CONCATENATION": 3, "PAD": 3,
              "PADV2": 3, "MEAN": 3, "TRANSPOSE": 5, "SLICE": 4, "DEQUANTIZE": 3,
              "MAXIMUM": 4, "MINIMUM": 4, "RESIZE_NEAREST_NEIGHBOR": 4, "RESIZE_BILINEAR": 4,
              "BATCH_MATMUL": 3, "GATHER": 4, "PACK": 3, "UNPACK": 4},
}


def op_version(kind: str, ins, outs=(), attrs=None) -> int:
    """The operator version to write for `kind` with these tensors and attributes."""
    attrs = attrs or {}
    x = ins[0] if ins else None
    w = ins[1] if len(ins) > 1 else None
    a, b = (x.dtype if x else None), (w.dtype if w else None)
    per_channel = bool(w and w.quant and w.quant.per_channel)
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") and a == "float32":
        if b != "int8":
            if kind == "FULLY_CONNECTED" and len(ins) == 2:
                return 6
            if kind == "DEPTHWISE_CONV_2D" and tuple(attrs.get("dilation", (1, 1))) != (1, 1):
                return 2
            return 5 if kind == "FULLY_CONNECTED" and attrs.get("keep_num_dims") else 1
        hybrid = {"CONV_2D": (2, 5), "DEPTHWISE_CONV_2D": (4, 6), "FULLY_CONNECTED": (3, 12)}
        return hybrid[kind][per_channel]
    if kind == "CONV_2D" and x and w and len(x.shape) == 4 and x.shape[3] != w.shape[3]:
        return 6  # grouped convolution
    if b == "int4" and a == "int8":
        return {"CONV_2D": 7, "DEPTHWISE_CONV_2D": 7, "FULLY_CONNECTED": 10}.get(kind, 1)
    if kind == "FULLY_CONNECTED" and a == "int8":
        return 6 if len(ins) == 2 else 5 if attrs.get("keep_num_dims") else 4
    if kind == "TRANSPOSE_CONV":      # inputs: output_shape, filter, input[, bias]
        a = ins[2].dtype if len(ins) > 2 and ins[2] else None
        if attrs.get("activation", "NONE") != "NONE":
            return 4
        return {"int8": 2, "int16": 3}.get(a, 1)
    if kind == "BROADCAST_TO":        # version 1 was the custom op's; LiteRT registers 2, 3
        return 3 if a == "int16" else 2
    if kind == "FILL":                # the value (input 1) decides
        return 3 if b in ("int8", "int16") else 1
    if kind == "QUANTIZE":
        y = outs[0] if outs else None
        if "int4" in (a, y and y.dtype):
            return 4
        return 3 if y and y.quant and y.quant.per_channel else 2 if y and y.dtype == "int16" else 1
    if kind == "EMBEDDING_LOOKUP":    # by the table's dtype (input 1)
        return 3 if b == "int8" else 1
    return VERSIONS.get(a, {}).get(kind, 1)
