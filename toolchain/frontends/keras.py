"""Keras model file (.h5 Keras 2 HDF5, .keras zip) -> float32 fitml Graph, NHWC.

Keras is an optional extra: TensorFlow is imported here, only when a Keras file is loaded.
The file's format and config are checked before Keras deserializes anything (keras_file.py),
so a polyglot file, a custom or Lambda layer or a non-Keras object is refused without running
its code.
.h5 loads with tf_keras (Keras 2; Keras 3 refuses some Keras 2.4 files), .keras with Keras 3;
each falls back to the other. Layers convert one by one (keras_layers.py); Sequential and
Functional models nest. The batch dimension None becomes 1.
"""
from __future__ import annotations

import contextlib
import importlib
import os
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import ModelError
from ..ir import Graph, GraphError
from ..util.quiet import silenced_stderr
from ..passes.pipeline import CLEANUP, run_pipeline
from . import (keras_activations, keras_layers,  # noqa: F401  (registers the converters)
               keras_pool_layers, keras_shape_layers)
from .keras_builder import LAYERS, KerasBuilder, Layer
from .keras_file import CONTAINERS, HINT, check_layers, check_weights, file_config
from .keras_wiring import check_wiring, first_call


def load_keras(source, input_shapes: Mapping[str, Sequence[int]] | None = None,
               cleanup: bool = True) -> Graph:
    """Read a .h5 / .keras model into a validated float32 Graph.

    input_shapes: shapes for inputs with unknown dims other than the batch (name -> shape).
    cleanup: run the CLEANUP passes (fold BatchNorm into convs, fuse activations, drop
    identities); False returns the literal layer-by-layer translation.
    """
    path = Path(source)
    if not path.is_file():
        raise ModelError(f"{path}: no such file")
    cfg = file_config(path)
    check_layers(cfg, str(path))
    check_wiring(cfg, str(path))
    check_weights(path)
    model, keras2 = load_model(path)
    b = KerasBuilder(str(path), keras2)
    inputs, outputs = convert_model(b, model.get_config(), model, None,
                                    dict(input_shapes or {}), "")
    graph = Graph.build(b.tensors.values(), b.ops, inputs, outputs,
                        {"source": path.name, "format": "keras"})
    try:
        graph = graph.validate()
        if cleanup:
            graph = run_pipeline(graph, CLEANUP)
        return graph
    except GraphError as exc:
        raise ModelError(f"{path}: {exc}") from None


# --- reading the file ----------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet():
    """Silence TensorFlow's C++ start-up logging on stderr (printed before its flags apply)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with silenced_stderr():
        yield


def load_model(path: Path):
    """(Keras model, True when tf_keras loaded it)."""
    order = ("tf_keras", "keras") if path.suffix.lower() != ".keras" else ("keras", "tf_keras")
    failures, imported = [], False
    for lib in order:
        try:
            with _quiet():
                module = importlib.import_module(lib)
                imported = True
                return module.models.load_model(str(path), compile=False), lib == "tf_keras"
        except ImportError as exc:
            if imported:
                failures.append(f"{lib}: {exc}")
        except Exception as exc:  # Keras raises many types on malformed or foreign files
            text = str(exc).strip().splitlines()
            failures.append(f"{lib}: {type(exc).__name__}: {text[0][:200] if text else ''}")
    if not imported:
        raise ModelError(f"{path}: {HINT}")
    raise ModelError(f"{path}: Keras cannot load the model ({'; '.join(failures)})")


# --- walking the model ---------------------------------------------------------------------------
def convert_model(b: KerasBuilder, cfg: dict, obj, bound, shapes: dict, scope: str):
    """(input tensors, output tensors) of a Functional or Sequential config; `bound` holds
    the outer tensors feeding a nested model (None at top level: graph inputs are made).
    Tensors are keyed (layer, call number, output number)."""
    if "input_layers" not in cfg:
        return _sequential(b, cfg, obj, bound, shapes, scope)
    entries = {e.get("name") or e["config"]["name"]: e for e in cfg["layers"]}

    def key(ref, io=False):
        return ref[0], ref[1] - _first_call(b, entries.get(ref[0], {}), io), ref[2]

    values, inputs = {}, []
    for i, ref in enumerate(_refs(cfg["input_layers"])):
        if bound is None:
            c = entries[ref[0]]["config"]
            x = _graph_input(b, scope + ref[0], c.get("batch_shape") or
                             c.get("batch_input_shape"), c.get("dtype"), shapes)
        else:
            x = bound[i]
        values[key(ref, True)] = x
        inputs.append(x)
    pending = [(name, e, k, node) for name, e in entries.items()
               if e["class_name"] != "InputLayer"
               for k, node in enumerate(e.get("inbound_nodes") or [])]
    while pending:                         # Keras may list a layer before its inputs' layers
        waiting = []
        for name, e, k, node in pending:
            refs = [key(r) for r in _node_refs(node)]
            if all(r in values for r in refs):
                outs = _call(b, e, obj, [values[r] for r in refs], shapes, scope)
                values.update({(name, k, t): o for t, o in enumerate(outs)})
            else:
                waiting.append((name, e, k, node))
        if len(waiting) == len(pending):
            raise ModelError(f"{b.where}: layers {[w[0] for w in waiting]} have inputs that "
                             "no layer produces")
        pending = waiting
    outputs = [key(r, True) for r in _refs(cfg["output_layers"])]
    missing = [r for r in outputs if r not in values]
    if missing:
        raise ModelError(f"{b.where}: model outputs {missing} are never computed")
    return inputs, [values[r] for r in outputs]


def _first_call(b: KerasBuilder, entry: dict, io: bool) -> int:
    """The config's index of a layer's first call (keras_wiring.first_call)."""
    return first_call(entry, b.keras2, io)


def _sequential(b: KerasBuilder, cfg: dict, obj, bound, shapes: dict, scope: str):
    entries = list(cfg["layers"])
    first = entries.pop(0)["config"] if entries and entries[0]["class_name"] == "InputLayer" \
        else {}
    if bound is None:
        name = first.get("name") or f"{cfg.get('name', 'sequential')}_input"
        shape = first.get("batch_shape") or first.get("batch_input_shape") or obj.input_shape
        bound = [_graph_input(b, scope + name, shape, first.get("dtype"), shapes)]
    xs = list(bound)
    for e in entries:
        xs = _call(b, e, obj, xs, shapes, scope)
    return list(bound), xs


def _graph_input(b: KerasBuilder, name: str, shape, dtype, shapes: dict) -> str:
    if isinstance(dtype, str) and dtype != "float32":
        raise ModelError(f"{b.where}: input {name!r} is {dtype}; only float32 inputs are "
                         "supported")
    shape = list(shapes.get(name, shape or ()))
    if shape and shape[0] is None:
        shape[0] = 1
    if not shape or any(d is None for d in shape):
        raise ModelError(f"{b.where}: input {name!r} has shape {shape} with unknown dims; "
                         "give input_shapes={name: shape}")
    return b.add_input(name, shape)


def _call(b: KerasBuilder, entry: dict, parent, ins: list[str], shapes: dict, scope: str):
    """Convert one call of a layer (or of a nested model); returns its output tensors."""
    cls, cfg = entry["class_name"], entry["config"]
    obj = parent.get_layer(cfg["name"])
    if cls in CONTAINERS:
        return convert_model(b, cfg, obj, ins, shapes, f"{scope}{cfg['name']}/")[1]
    b.layer = Layer(cls, scope + cfg["name"], cfg, obj)
    try:
        return LAYERS[cls][0](b, b.layer, ins)
    except ModelError:
        raise
    except Exception as exc:  # odd configs or weights in an untrusted file: one clear line
        raise b.error(f"cannot convert ({type(exc).__name__}: {exc})") from None
    finally:
        b.layer = None


def _refs(spec) -> list[tuple[str, int, int]]:
    """[[layer, node, tensor], ...]; Keras 3 stores a lone input or output unnested."""
    spec = [spec] if spec and isinstance(spec[0], str) else spec
    return [(r[0], int(r[1]), int(r[2])) for r in spec]


def _node_refs(node) -> list[tuple[str, int, int]]:
    """Tensors an inbound node reads: Keras 2 lists [layer, node, tensor, kwargs]; Keras 3
    stores {"args": [...]} holding __keras_tensor__ entries with their keras_history."""
    if not isinstance(node, dict):
        return [(r[0], int(r[1]), int(r[2])) for r in node]
    found = []

    def visit(v):
        if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
            h = v["config"]["keras_history"]
            found.append((h[0], int(h[1]), int(h[2])))
        elif isinstance(v, dict):
            for x in v.values():
                visit(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                visit(x)
    visit(node.get("args", []))
    return found
