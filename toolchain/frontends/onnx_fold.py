"""Constant folding at ONNX import, bounded before anything is evaluated.

A node whose inputs are all constants is run once by onnx's reference evaluator and its
outputs become constants. A model file is hostile: a 150-byte Resize can ask for 10^9
elements, a pool or GridSample on constants for minutes of pure-Python loops. So the output
shapes are inferred first (onnx shape inference on the one-node model, small constants given
as values) and the node is refused before it runs when an output, the model's total or the
work is too large. Ops the evaluator runs element by element get a smaller cap; ops not
listed here (strings, image decoding, random, ...) are never evaluated.
"""
from __future__ import annotations

import numpy as np

from .onnx_build import Builder
from .onnx_node import OnnxNode

MAX_ELEMENTS = 1 << 24       # one folded output (64 MiB of float32: more than any MCU flash)
MAX_TOTAL = 1 << 26          # all folded outputs of one model
MAX_MACS = 1 << 31           # MatMul / Gemm / Conv on constants
VALUE_LIMIT = 1 << 16        # inputs up to this size reach shape inference as values

FAST = frozenset("""
    Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh BatchNormalization BitShift
    BitwiseAnd BitwiseNot BitwiseOr BitwiseXor Cast CastLike Ceil Celu Clip Compress Concat
    Constant ConstantOfShape Cos Cosh CumProd CumSum DepthToSpace DequantizeLinear Div Dropout
    DynamicQuantizeLinear Elu Equal Erf Exp Expand EyeLike Flatten Floor Gather Gelu
    GlobalAveragePool GlobalMaxPool Greater GreaterOrEqual HardSigmoid HardSwish Hardmax
    Identity InstanceNormalization IsInf IsNaN LayerNormalization LeakyRelu Less LessOrEqual
    Log LogSoftmax LpNormalization Max Mean Min Mish Mod Mul Neg NonZero Not OneHot Or PRelu
    Pad Pow QuantizeLinear Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp
    ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape
    RMSNormalization Round Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax Softplus
    Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Swish Tan Tanh ThresholdedRelu Tile TopK
    Transpose Trilu Unique Unsqueeze Where Xor""".split())
# op type -> (input holding the reduced dim, its axis; None: the weights' dims after the first)
MACS = {"MatMul": (0, -1), "MatMulInteger": (0, -1), "QLinearMatMul": (0, -1),
        "Gemm": (0, None), "Conv": (1, None), "ConvInteger": (1, None),
        "QLinearConv": (3, None)}
CAPS = {"Conv": 1 << 20, "ConvInteger": 1 << 20, "QLinearConv": 1 << 20,
        "Resize": 1 << 20, "Upsample": 1 << 20}
SLOW = frozenset("""
    AffineGrid AveragePool BlackmanWindow CenterCropPad Col2Im ConcatFromSequence
    ConvTranspose DeformConv Det DFT Einsum GRU GatherElements GatherND GridSample
    HammingWindow HannWindow LRN LSTM LpPool MaxPool MaxRoiPool MaxUnpool MelWeightMatrix
    NonMaxSuppression RNN ReverseSequence RoiAlign STFT Scatter ScatterElements ScatterND
    SequenceAt SequenceConstruct SequenceInsert SequenceLength SplitToSequence""".split())
SLOW_MAX_ELEMENTS = 1 << 12  # the evaluator runs these element by element in Python
# onnx.reference implements these from a later opset only; the older versions mean the same
EVAL_OPSET = {"DequantizeLinear": 19}
# output dims that depend on values: at most (largest input's elements) x (its rank)
DATA_DEPENDENT = frozenset({"NonZero", "Unique", "Compress", "NonMaxSuppression"})


def fold(b: Builder, node: OnnxNode, proto) -> None:
    """Evaluate a node whose inputs are all constants, its output sizes checked first."""
    from onnx import TensorProto, helper  # lazy: onnx is optional (fitml[onnx])
    from onnx.reference import ReferenceEvaluator  # lazy: onnx is optional (fitml[onnx])

    feeds = {i: b.consts[i] for i in node.inputs if i}
    outputs = [o for o in node.outputs if o]
    bounds = check_sizes(b, node, proto, feeds, outputs)
    try:   # a one-node model, so the evaluator uses the model's opset semantics
        ins = [helper.make_tensor_value_info(i, helper.np_dtype_to_tensor_dtype(v.dtype), None)
               for i, v in feeds.items()]
        outs = [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in outputs]
        opset = max(b.opset, EVAL_OPSET.get(node.op_type, 0))
        model = helper.make_model(helper.make_graph([proto], "fold", ins, outs),
                                  opset_imports=[helper.make_opsetid("", opset)])
        results = ReferenceEvaluator(model).run(None, feeds)
    except Exception as exc:
        raise b.error(f"cannot evaluate on constant inputs: {type(exc).__name__}: "
                      f"{exc}") from None
    for name, value, bound in zip(outputs, results, bounds):
        value = np.asarray(value)
        if value.size > bound:   # shape inference and the evaluator disagree
            raise b.error(f"folded constant {name!r} has {value.size:,} elements, more "
                          f"than its inferred {bound:,}")
        b.consts[name] = value
    b.folded += sum(bounds)


def check_sizes(b: Builder, node: OnnxNode, proto, feeds: dict, outputs: list) -> list:
    """Upper bounds of the outputs' element counts, from shapes alone; a ModelError when a
    cap is exceeded or an output's size cannot be bounded."""
    op = node.op_type
    if op in SLOW:
        cap = SLOW_MAX_ELEMENTS
    elif op in FAST or op in MACS or op in CAPS:
        cap = CAPS.get(op, MAX_ELEMENTS)
    else:
        raise b.error("this op on constant inputs is not supported (fitml does not evaluate "
                      "it at import)")
    types = inferred_types(b, proto, feeds)
    bounds = []
    for name in outputs:
        size = _bound(b, op, types.get(name), feeds)
        if size is None:
            raise b.error(f"cannot bound the size of output {name!r} from its shapes, so it "
                          "is not evaluated at import")
        if size > cap:
            raise b.error(f"folding would create {name!r} with {size:,} elements (at most "
                          f"{cap:,} when folding {op} at import)")
        bounds.append(size)
    if b.folded + sum(bounds) > MAX_TOTAL:
        raise b.error(f"folded constants would exceed {MAX_TOTAL:,} elements in total")
    if op in MACS and bounds:
        macs = bounds[0] * _reduced(op, feeds, node)
        if macs > MAX_MACS:
            raise b.error(f"folding would take {macs:,} multiply-accumulates (at most "
                          f"{MAX_MACS:,} on constants)")
    return bounds


def _reduced(op: str, feeds: dict, node: OnnxNode) -> int:
    """The number of products summed into one output of a MatMul/Gemm/Conv."""
    index, axis = MACS[op]
    shape = np.shape(feeds.get(node.input(index), np.zeros(0)))
    if op == "Gemm":
        return int(shape[0] if node.attr("transA", 0) else shape[-1]) if shape else 1
    if axis is not None:
        return int(shape[axis]) if shape else 1
    return int(np.prod(shape[1:], dtype=object)) if shape else 1


def inferred_types(b: Builder, proto, feeds: dict) -> dict:
    """{value name: TypeProto} by onnx shape inference of the one-node model."""
    from onnx import TensorProto, helper, numpy_helper, shape_inference  # lazy: optional

    try:
        inits, ins = [], []
        for name, v in feeds.items():
            if v.size <= VALUE_LIMIT:
                inits.append(numpy_helper.from_array(np.asarray(v), name))
            else:
                ins.append(helper.make_tensor_value_info(
                    name, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape))
        outs = [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None)
                for o in proto.output if o]
        model = helper.make_model(helper.make_graph([proto], "fold", ins, outs, inits),
                                  opset_imports=[helper.make_opsetid("", b.opset)])
        inferred = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:   # InferenceError: the node does not fit its inputs
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise b.error(f"invalid on its constant inputs: {type(exc).__name__}: "
                      f"{first}") from None
    graph = inferred.graph
    return {vi.name: vi.type for vi in [*graph.value_info, *graph.output]}


def _bound(b: Builder, op: str, typ, feeds: dict) -> int | None:
    """At most how many elements a value of this inferred type holds (None: unknown)."""
    inputs = [np.asarray(v) for v in feeds.values()]
    largest = max(inputs, key=lambda v: v.size, default=np.zeros(()))
    if typ is not None and typ.WhichOneof("value") == "sequence_type":
        return sum(v.size for v in inputs) if op in SLOW else None
    if typ is None or not typ.tensor_type.HasField("shape"):
        return None
    count, unknown = 1, False
    for d in typ.tensor_type.shape.dim:
        if not d.HasField("dim_value"):
            unknown = True
        elif d.dim_value < 0:
            raise b.error(f"inferred a negative dimension {d.dim_value}")
        else:
            count *= d.dim_value
    if unknown:
        return largest.size * max(1, largest.ndim) if op in DATA_DEPENDENT else None
    return count
