"""TFLite flatbuffer -> fitml Graph, with every index and size checked before use.

Model files are untrusted input: a malformed file gives a ModelError naming the file and what is
wrong, never a crash, a hang or a huge allocation.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..errors import ModelError
from ..ir import Graph, GraphError, Op, QuantParams, Tensor
from ..ir.ranges import quant_problem
from ..ops import registry
from ..passes.pipeline import CLEANUP, run_pipeline
from .tflite_arity import check_arity
from .tflite_checks import check_options_type, check_unique
from .tflite_custom import custom_op_message
from .tflite_quirks import TensorFacts, quirk_warnings, tensor_quant_axis

TENSOR_TYPES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
IR_DTYPES = {"FLOAT32": "float32", "INT8": "int8", "UINT8": "uint8", "INT16": "int16",
             "INT32": "int32", "INT64": "int64", "INT4": "int4", "BOOL": "bool"}
MAX_TENSOR_BYTES = 1 << 30


def _read_bytes(source) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "<bytes>"
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return data, str(path)


def _unpack(data: bytes, where: str) -> "schema.ModelT":
    if len(data) == 0:
        raise ModelError(f"{where}: empty file, not a TFLite model")
    if len(data) < 16 or data[4:8] != b"TFL3":
        raise ModelError(f"{where}: not a TFLite flatbuffer (no 'TFL3' identifier)")
    try:
        model = schema.ModelT.InitFromPackedBuf(data, 0)
    except Exception as exc:  # the flatbuffers runtime raises many kinds on corrupt offsets
        raise ModelError(f"{where}: corrupt or truncated TFLite flatbuffer "
                         f"({type(exc).__name__})") from None
    if model.version != 3:
        raise ModelError(f"{where}: TFLite schema version {model.version}, expected 3")
    if not model.subgraphs:
        raise ModelError(f"{where}: model has no subgraph")
    return model


def _name(raw, index: int, taken: set[str]) -> str:
    try:
        name = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
    except Exception:
        name = ""
    name = name or f"tensor_{index}"
    if name in taken:
        name = f"{name}#{index}"
    taken.add(name)
    return name


def _quant(qp, shape, dtype: str, where: str, is_const: bool = False,
           found: list | None = None, label: str = "") -> QuantParams | None:
    """The tensor's QuantParams; a known quirk (tflite_quirks) is accepted and added to
    `found` as (quirk, label, facts)."""
    if qp is None or qp.scale is None or len(qp.scale) == 0:
        return None
    scale = np.asarray(qp.scale, np.float32)
    zero = np.asarray(qp.zeroPoint if qp.zeroPoint is not None else [0], np.int64)
    if zero.size not in (1, scale.size):
        raise ModelError(f"{where}: {scale.size} scales but {zero.size} zero points")
    axis = int(qp.quantizedDimension) if scale.size > 1 else None
    if axis is not None:
        facts = TensorFacts(tuple(shape), dtype, is_const, int(scale.size), axis)
        axis, quirk = tensor_quant_axis(facts)
        if quirk is not None and found is not None:
            found.append((quirk, label, facts))
    if axis is not None and not 0 <= axis < len(shape):
        raise ModelError(f"{where}: quantized dimension {axis} out of range for shape {shape}")
    quant = QuantParams(scale, zero, axis)
    problem = quant_problem(quant, dtype)
    if problem:
        raise ModelError(f"{where}: bad quantization: {problem}")
    return quant


def _tensor(t, index: int, model, name: str, where: str, found: list) -> Tensor:
    tname = f"{where}: tensor {index} ({name!r})"
    type_name = TENSOR_TYPES.get(t.type, str(t.type))
    if type_name not in IR_DTYPES:
        raise ModelError(f"{tname}: type {type_name} is not supported "
                         f"(supported: {', '.join(IR_DTYPES)})")
    dtype = IR_DTYPES[type_name]
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    if any(d < 0 for d in shape):
        raise ModelError(f"{tname}: negative or dynamic dimension in {list(shape)}")
    count = int(np.prod(shape, dtype=np.float64)) if shape else 1
    itemsize = 1 if dtype == "int4" else np.dtype(dtype).itemsize
    if count * itemsize > MAX_TENSOR_BYTES:
        raise ModelError(f"{tname}: shape {list(shape)} is implausibly large")
    if not 0 <= t.buffer < len(_seq(model.buffers)):
        raise ModelError(f"{tname}: buffer index {t.buffer} out of range")
    raw = _buffer_bytes(model.buffers[t.buffer])
    data = None
    if raw is not None and len(raw):
        data = _decode(raw, dtype, shape, count, tname)
    quant = _quant(t.quantization, shape, dtype, tname, data is not None, found,
                   f"{index} ({name!r})")
    if data is None and t.isVariable and dtype != "int4":
        # state (LSTM): what TFLM's ResetVariableTensors fills in (int8: the zero point)
        data = np.full(shape, quant.zp if dtype == "int8" and quant else 0, dtype)
    if t.sparsity is not None:
        raise ModelError(f"{tname}: sparse tensors are not supported")
    return Tensor(name, shape, dtype, data, quant)


def _buffer_bytes(buf):
    if buf is None or buf.data is None:
        return None
    if buf.offset not in (0, None) and buf.offset > 1:
        raise ModelError("buffers stored outside the flatbuffer (offset/size) are not supported")
    return np.asarray(buf.data, np.uint8).tobytes()


def _decode(raw: bytes, dtype: str, shape, count: int, where: str) -> np.ndarray:
    if dtype == "int4":
        if len(raw) != (count + 1) // 2:
            raise ModelError(f"{where}: int4 buffer has {len(raw)} bytes for {count} values")
        packed = np.frombuffer(raw, np.uint8)
        nibbles = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(-1)[:count]
        return ((nibbles.astype(np.int8) << 4) >> 4).reshape(shape)
    expected = count * np.dtype(dtype).itemsize
    if len(raw) != expected:
        raise ModelError(f"{where}: buffer has {len(raw)} bytes, shape {list(shape)} of "
                         f"{dtype} needs {expected}")
    return np.frombuffer(raw, np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(shape)


def _index(i: int, count: int, what: str) -> int:
    if not -1 <= i < count:
        raise ModelError(f"{what} index {i} out of range (model has {count})")
    return i


def _seq(value):
    """Object-API vectors are None, lists or numpy arrays (never test them for truth)."""
    return [] if value is None else value


def _required(i: int, count: int, what: str) -> int:
    if not 0 <= i < count:
        raise ModelError(f"{what} index {i} out of range (model has {count})")
    return int(i)


def load_tflite(source, cleanup: bool = True) -> Graph:
    """Read a .tflite file (path or bytes) into a validated Graph.

    cleanup: run the CLEANUP passes (as the other frontends do): what converters leave for the
    kernels to do twice (an explicit PAD before a VALID conv, transposes that cancel) folds."""
    data, where = _read_bytes(source)
    model = _unpack(data, where)
    sub = model.subgraphs[0]
    raw_tensors = _seq(sub.tensors)
    taken: set[str] = set()
    names = [_name(t.name, i, taken) for i, t in enumerate(raw_tensors)]
    found: list = []
    tensors = [_tensor(t, i, model, names[i], where, found) for i, t in enumerate(raw_tensors)]
    quirks = quirk_warnings(found, where)
    codes = _seq(model.operatorCodes)
    by_name = {t.name: t for t in tensors}
    ops = [_op(o, i, codes, names, where, by_name) for i, o in enumerate(_seq(sub.operators))]
    inputs = [names[_required(i, len(names), f"{where}: graph input")] for i in _seq(sub.inputs)]
    outputs = [names[_required(i, len(names), f"{where}: graph output")]
               for i in _seq(sub.outputs)]
    check_unique(_seq(sub.inputs), names, "input", where)
    check_unique(_seq(sub.outputs), names, "output", where)
    meta = {"source": Path(where).name, "path": where, "format": "tflite"}
    if quirks:
        meta["quirks"] = "\n".join(quirks)
    graph = Graph.build(tensors, ops, inputs, outputs, meta)
    try:
        graph = graph.validate()
        graph = run_pipeline(graph, CLEANUP) if cleanup else graph
    except GraphError as exc:
        raise ModelError(f"{where}: {exc}") from None
    for line in quirks:      # accepted, as TFLite Micro accepts it: said once, on stderr
        print(line, file=sys.stderr)
    return graph


def _op(o, index: int, codes, names, where: str, tensors) -> Op:
    def tensor_name(i):
        i = _index(int(i), len(names), f"{where}: operator {index}: tensor")
        return "" if i < 0 else names[i]

    outputs = [tensor_name(i) for i in _seq(o.outputs)]
    if not 0 <= o.opcodeIndex < len(codes):
        raise ModelError(f"{where}: operator {index}: opcode index {o.opcodeIndex} out of range")
    code = codes[o.opcodeIndex]
    builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
    kind = BUILTIN_NAMES.get(builtin, f"builtin #{builtin}")
    out = repr(outputs[0]) if outputs else "none"
    if kind == "CUSTOM":
        raise ModelError(f"{where}: " + custom_op_message(code.customCode, index, out,
                                                          registry.supported()))
    if kind not in registry.all_defs():
        raise ModelError(f"{where}: operator {kind} (node {index}, output tensor {out}) is not "
                         f"supported; supported operators: {', '.join(registry.supported())}")
    opdef = registry.get(kind)
    check_options_type(kind, opdef.tflite_options, o, f"{where}: operator {kind} (node {index})")
    try:
        attrs = opdef.attrs_from_tflite(o.builtinOptions)
    except (GraphError, AttributeError, TypeError, ValueError) as exc:
        raise ModelError(f"{where}: operator {kind} (node {index}): bad options: {exc}") from None
    inputs = [tensor_name(i) for i in _seq(o.inputs)]
    check_arity(kind, inputs, f"{where}: operator {kind} (node {index})")
    if len(_seq(o.intermediates)):   # kept for the writer (LiteRT's int8 LSTM reads them)
        attrs["intermediates"] = tuple(tensor_name(i) for i in _seq(o.intermediates))
    if not opdef.uint8_ok and any(n and tensors[n].dtype == "uint8" for n in inputs + outputs):
        raise ModelError(f"{where}: operator {kind} (node {index}) uses legacy uint8 "
                         "quantization, which fitml (like TFLite Micro) does not run; only "
                         "QUANTIZE/DEQUANTIZE may take uint8. Re-convert the model with int8 "
                         "(TFLiteConverter: inference_input_type=tf.uint8 keeps uint8 I/O)")
    dtype_attr = getattr(opdef, "output_dtype_attr", None)
    if dtype_attr and outputs and outputs[0]:   # e.g. QUANTIZE: output type is not inferable
        want = tensors[outputs[0]].dtype
        plain = Op(kind, inputs, outputs, attrs)
        try:
            default = opdef.infer(plain, [tensors.get(n) for n in inputs])[0][1]
        except Exception:   # malformed operands: validation reports them
            default = None
        if want != default:
            attrs[dtype_attr] = want
    return Op(kind, inputs, outputs, attrs, name=f"{kind.lower()}_{index}")
