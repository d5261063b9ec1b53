"""IR Graph -> .tflite flatbuffer (schema version 3), through the TFLite object API.

One subgraph; constants get one buffer each (16-byte aligned), activations share the empty
buffer 0. Output is deterministic: the same graph always gives the same bytes.
"""
from __future__ import annotations

import json

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import Graph, GraphError, Tensor
from ..ops import registry
from ..passes.unfold_pads import unfold_pads
from ..passes.zero_bias import conv_zero_biases
from ..version import __version__
from .tflite_versions import op_version

PRODUCER = "fitml"
PRODUCER_VERSION = __version__   # = the installed version (tests/test_cli_usability.py)
FORMAT_VERSION = 3
BUFFER_ALIGN = 16
MAX_FLATBUFFER = 2**31 - 2**20  # flatbuffers use signed 32-bit offsets; leave room for tables

TENSOR_TYPES = {"float32": schema.TensorType.FLOAT32, "int8": schema.TensorType.INT8,
                "uint8": schema.TensorType.UINT8, "int16": schema.TensorType.INT16,
                "int32": schema.TensorType.INT32, "int64": schema.TensorType.INT64,
                "int4": schema.TensorType.INT4, "bool": schema.TensorType.BOOL}

class _AlignedBufferT(schema.BufferT):
    """A BufferT whose byte vector starts on a BUFFER_ALIGN boundary (for SIMD kernels)."""

    def Pack(self, builder):
        data = None
        if self.data is not None:
            raw = bytes(self.data)
            builder.StartVector(1, len(raw), BUFFER_ALIGN)
            builder.head = builder.head - len(raw)
            builder.Bytes[builder.head:builder.head + len(raw)] = raw
            builder.vectorNumElems = len(raw)
            data = builder.EndVector()
        schema.BufferStart(builder)
        if data is not None:
            schema.BufferAddData(builder, data)
        return schema.BufferEnd(builder)


def pack_int4(values: np.ndarray) -> bytes:
    """int4 values (one per int8) -> bytes, two per byte, low nibble first (TFLite order)."""
    v = (np.asarray(values, np.int8).reshape(-1) & 0x0F).astype(np.uint8)
    if v.size % 2:
        v = np.append(v, np.uint8(0))
    return (v[0::2] | (v[1::2] << 4)).astype(np.uint8).tobytes()


def tensor_bytes(t: Tensor) -> bytes:
    """Little-endian raw bytes of a constant (int4: data unpacked in `t.shape`, or packed)."""
    if t.dtype == "int4" and tuple(t.data.shape) == t.shape:
        raw = pack_int4(t.data)
    elif t.dtype == "int4":
        raw = np.ascontiguousarray(t.data).astype(np.uint8, copy=False).tobytes()
    else:
        want = np.dtype(t.dtype if t.dtype != "bool" else np.bool_).newbyteorder("<")
        raw = np.ascontiguousarray(t.data, dtype=want).tobytes()
    if len(raw) != t.nbytes:
        raise GraphError(f"constant {t.name!r}: {len(raw)} bytes of data for "
                         f"{t.dtype}{list(t.shape)} ({t.nbytes} bytes)")
    return raw


def _quantization(t: Tensor):
    q = t.quant
    if q is None:
        return None
    out = schema.QuantizationParametersT()
    out.scale = [float(s) for s in q.scale]
    zps = np.broadcast_to(q.zero_point, q.scale.shape)
    out.zeroPoint = [int(z) for z in zps]
    if q.axis is not None:
        out.quantizedDimension = int(q.axis) % max(len(t.shape), 1)
    return out


def _tensor(t: Tensor, buffer: int):
    out = schema.TensorT()
    out.name = t.name
    out.shape = [int(d) for d in t.shape]
    out.type = TENSOR_TYPES[t.dtype]
    out.buffer = buffer
    out.quantization = _quantization(t)
    return out


def _operator(graph: Graph, op, index: dict[str, int], opcodes: dict, codes: list):
    opdef = registry.get(op.kind)
    code = getattr(schema.BuiltinOperator, op.kind, None)
    if code is None:
        raise GraphError(f"op kind {op.kind!r} is not a TFLite builtin operator")
    key = (op.kind, op_version(op.kind, graph.op_inputs(op), graph.op_outputs(op),
                                op.attrs))
    if key not in opcodes:
        oc = schema.OperatorCodeT()
        oc.builtinCode, oc.deprecatedBuiltinCode = code, min(code, 127)
        oc.version = key[1]
        opcodes[key] = len(codes)
        codes.append(oc)
    out = schema.OperatorT()
    out.opcodeIndex = opcodes[key]
    inputs = list(op.inputs)
    count = getattr(opdef, "tflite_inputs", 0)     # ops whose kernels need every input slot
    while len(inputs) > count and not inputs[-1]:  # else trailing absent inputs are dropped,
        inputs.pop()                               # as the converter does
    inputs += [""] * (count - len(inputs))
    out.inputs = [index[n] if n else -1 for n in inputs]
    out.outputs = [index[n] for n in op.outputs]
    if op.attr("intermediates"):    # as read (LiteRT's int8 LSTM takes its gate scales there)
        out.intermediates = [index[n] if n in index else -1 for n in op.attr("intermediates")]
    options = opdef.attrs_to_tflite(dict(op.attrs))
    if options is not None:
        out.builtinOptionsType = getattr(schema.BuiltinOptions, opdef.tflite_options)
        out.builtinOptions = options
    return out


def _signature(graph: Graph, index: dict[str, int]) -> "schema.SignatureDefT":
    """The "serving_default" signature phone apps call (LiteRT signature runners), naming the
    graph's inputs and outputs by tensor name."""
    def maps(names):
        out = []
        for n in names:
            m = schema.TensorMapT()
            m.name, m.tensorIndex = n, index[n]
            out.append(m)
        return out

    sig = schema.SignatureDefT()
    sig.signatureKey, sig.subgraphIndex = "serving_default", 0
    sig.inputs, sig.outputs = maps(graph.inputs), maps(graph.outputs)
    return sig


def _variables(graph: Graph) -> set[str]:
    """Constants that ops declare as state (`OpDef.variable_inputs`, e.g. the LSTM's hidden and
    cell state): written as variable tensors without data, which runtimes reset to real zero
    (TFLM's ResetVariableTensors: the zero point for int8, else 0)."""
    names = set()
    for op in graph.ops:
        for i in getattr(registry.get(op.kind), "variable_inputs", ()):
            name = op.inputs[i] if i < len(op.inputs) else ""
            t = graph.tensors.get(name) if name else None
            if t is not None and t.is_const:
                fill = t.quant.zp if t.dtype == "int8" and t.quant is not None else 0
                if np.any(np.asarray(t.data) != fill):
                    raise GraphError(f"{op.kind}: state {name!r} has a nonzero initial value, "
                                     "which a .tflite variable tensor cannot hold")
                names.add(name)
    return names


def build_model(graph: Graph, metadata: dict[str, str] | None = None) -> schema.ModelT:
    """The object-API ModelT for `graph` (what `write_tflite` packs). EXPLICIT-padded ops
    are written as TFLite runs them (SAME, or PAD + VALID: passes/unfold_pads.py); a bias-less
    CONV_2D gets a zero bias, which LiteRT's conv kernel requires (passes/zero_bias.py)."""
    graph = conv_zero_biases(unfold_pads(graph))
    total = sum(t.nbytes for t in graph.tensors.values() if t.is_const)
    if total >= MAX_FLATBUFFER:
        raise GraphError(f"{total} bytes of constants: flatbuffers are limited to 2 GB")
    buffers = [_AlignedBufferT()]  # buffer 0: the empty sentinel every activation shares
    tensors, index = [], {}
    variables = _variables(graph)
    for name, t in graph.tensors.items():
        buf = 0
        if t.is_const and name not in variables:
            b = _AlignedBufferT()
            b.data = tensor_bytes(t)
            buf = len(buffers)
            buffers.append(b)
        index[name] = len(tensors)
        tensors.append(_tensor(t, buf))
        tensors[-1].isVariable = name in variables
    opcodes, codes = {}, []
    sub = schema.SubGraphT()
    sub.tensors = tensors
    sub.inputs = [index[n] for n in graph.inputs]
    sub.outputs = [index[n] for n in graph.outputs]
    sub.operators = [_operator(graph, op, index, opcodes, codes) for op in graph.ops]
    sub.name = "main"
    model = schema.ModelT()
    model.version = FORMAT_VERSION
    model.description = f"{PRODUCER} {PRODUCER_VERSION}"
    model.operatorCodes = codes
    model.subgraphs = [sub]
    model.signatureDefs = [_signature(graph, index)]
    if metadata is not None:
        blob = _AlignedBufferT()
        blob.data = json.dumps({"producer": PRODUCER, "producer_version": PRODUCER_VERSION,
                                **metadata}, sort_keys=True).encode()
        entry = schema.MetadataT()
        entry.name, entry.buffer = PRODUCER, len(buffers)
        buffers.append(blob)
        model.metadata = [entry]
    model.buffers = buffers
    return model


def write_tflite(graph: Graph, metadata: dict[str, str] | None = None) -> bytes:
    """Serialize `graph` to .tflite bytes; `metadata` goes to a "fitml" JSON metadata buffer."""
    builder = flatbuffers.Builder(1024)
    builder.Finish(build_model(graph, metadata).Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def read_metadata(model: bytes) -> dict[str, str] | None:
    """The "fitml" JSON metadata of a .tflite written by `write_tflite` (None when absent)."""
    m = schema.ModelT.InitFromPackedBuf(bytes(model), 0)
    for entry in m.metadata or []:
        if entry.name in (PRODUCER, PRODUCER.encode()):
            return json.loads(bytes(bytearray(m.buffers[entry.buffer].data)).decode())
    return None
