"""Structure-aware .tflite mutators of the graph: opcode indices and codes, operator inputs
and outputs, subgraph inputs/outputs, builtin options, operator order, model-level fields.
Each edit takes a schema.ModelT and a random.Random and returns what it did."""
from __future__ import annotations

import math

from ai_edge_litert import schema_py_generated as schema

from fuzz_mutators import Skip


def subgraph(model, rng) -> schema.SubGraphT:
    if not model.subgraphs:
        raise Skip
    return model.subgraphs[0]


def pick(items, rng):
    if not items:
        raise Skip
    i = rng.randrange(len(items))
    return i, items[i]


def _opcode_index(model, rng):
    i, op = pick(subgraph(model, rng).operators, rng)
    n = len(model.operatorCodes or [])
    op.opcodeIndex = rng.choice((n, n + 3, 2**32 - 1, rng.randrange(max(n, 1))))
    return f"operator {i} opcodeIndex -> {op.opcodeIndex} (of {n})"


def _opcode(model, rng):
    i, code = pick(model.operatorCodes, rng)
    field = rng.choice(("builtin", "builtin", "deprecated", "version", "custom"))
    if field == "builtin":
        code.builtinCode = rng.choice((rng.randrange(210), 32, 300, 2**31 - 1, -1))
        code.deprecatedBuiltinCode = min(code.builtinCode, 127) if code.builtinCode >= 0 else 0
    elif field == "deprecated":
        code.deprecatedBuiltinCode = rng.choice((127, -1, 0, 3))
    elif field == "version":
        code.version = rng.choice((0, -1, 99, 2**31 - 1))
    else:
        code.builtinCode = code.deprecatedBuiltinCode = 32   # CUSTOM
        code.customCode = rng.choice(("TFLite_Detection_PostProcess", "", "x" * 1000))
    return f"operator code {i} {field} -> builtin {code.builtinCode} v{code.version}"


def _op_tensors(model, rng):
    sg = subgraph(model, rng)
    i, op = pick(sg.operators, rng)
    side = rng.choice(("inputs", "outputs"))
    ids = [int(x) for x in (getattr(op, side) if getattr(op, side) is not None else [])]
    n = len(sg.tensors or [])
    how = rng.choice(("index", "index", "remove", "add", "duplicate"))
    if how == "index" and ids:
        ids[rng.randrange(len(ids))] = rng.choice((n, n + 9, -1, -2, 2**31 - 1,
                                                   rng.randrange(max(n, 1))))
    elif how == "remove" and ids:
        ids.pop(rng.randrange(len(ids)))
    elif how == "duplicate" and ids:
        ids.append(ids[0])
    else:
        ids.append(rng.choice((rng.randrange(max(n, 1)), n)))
    setattr(op, side, ids)
    return f"operator {i} {side} -> {ids[:8]} ({how}, {n} tensors)"


def _subgraph_io(model, rng):
    sg = subgraph(model, rng)
    side = rng.choice(("inputs", "outputs"))
    n = len(sg.tensors or [])
    ids = [int(x) for x in (getattr(sg, side) if getattr(sg, side) is not None else [])]
    how = rng.choice(("out of range", "empty", "other tensor", "duplicate"))
    if how == "out of range":
        ids = [n + 1]
    elif how == "empty":
        ids = []
    elif how == "other tensor":
        ids = [rng.randrange(max(n, 1))]
    else:
        ids = ids + ids
    setattr(sg, side, ids)
    return f"subgraph {side} -> {ids} ({how})"


def _options(model, rng):
    ops = [(i, op) for i, op in enumerate(subgraph(model, rng).operators or [])
           if op.builtinOptions is not None]
    _, (index, op) = pick(ops, rng)
    if rng.random() < 0.2:
        op.builtinOptionsType = rng.choice((0, 1, 9, 127))
        return f"operator {index} builtinOptionsType -> {op.builtinOptionsType}"
    opts = op.builtinOptions
    name = rng.choice(sorted(vars(opts)))
    old = getattr(opts, name)
    if isinstance(old, bool) or isinstance(old, int):
        new = rng.choice((0, -1, 2, 3, 127, -128, 100, 2**31 - 1) if not isinstance(old, bool)
                         else (True, False))
    elif isinstance(old, float):
        new = rng.choice((0.0, -1.0, math.nan, math.inf))
    else:
        new = rng.choice(([0], [-1], [2**31 - 1, 1], []))
    setattr(opts, name, new)
    return f"operator {index} {type(opts).__name__}.{name}: {old} -> {new}"


def _op_order(model, rng):
    ops = subgraph(model, rng).operators
    if not ops or len(ops) < 2:
        raise Skip
    i, j = rng.sample(range(len(ops)), 2)
    how = rng.choice(("swap", "remove", "duplicate"))
    if how == "swap":
        ops[i], ops[j] = ops[j], ops[i]
    elif how == "remove":
        ops.pop(i)
    else:
        ops.insert(j, ops[i])
    return f"operators {how} {i},{j}"


def _model_level(model, rng):
    how = rng.choice(("version", "no subgraphs", "two subgraphs", "no buffers", "metadata"))
    if how == "version":
        model.version = rng.choice((0, 2, 2**32 - 1))
    elif how == "no subgraphs":
        model.subgraphs = []
    elif how == "two subgraphs":
        model.subgraphs = (model.subgraphs or []) * 2
    elif how == "no buffers":
        model.buffers = []
    else:
        meta = schema.MetadataT()
        meta.name, meta.buffer = "min_runtime_version", 2**31
        model.metadata = (model.metadata or []) + [meta]
    return f"model {how}"


EDITS = (_opcode_index, _opcode, _op_tensors, _op_tensors, _subgraph_io, _options, _options,
         _op_order, _model_level)
