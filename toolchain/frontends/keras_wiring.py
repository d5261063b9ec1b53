"""The wiring of a Functional model config, checked before Keras rebuilds it.

tf_keras rebuilds a Functional model by calling each layer once its inbound tensors exist and
re-queues a call whose inputs do not exist yet, with no end: a layer with no inbound nodes that
another reads, a cycle, a self-reference or a call index the model never makes loops it forever.
`check_wiring` replays that queue (each layer's calls in order, as tf_keras and Keras 3 do) on
the config alone and refuses, naming the layer, any call that could never run, and any model
input or output that is not there.
"""
from __future__ import annotations

from collections import deque

from ..errors import ModelError

CONTAINERS = ("Functional", "Model", "Sequential")
CONSTANT = "_CONSTANT_VALUE"   # tf_keras' marker of a constant (not a tensor) call argument


def first_call(entry: dict, keras2: bool, io: bool) -> int:
    """The config's index of a layer's first call. A nested model built on an Input owns a
    node 0 (input to output) that the config leaves out but counts: Keras 2 counts it for
    Functional and Sequential everywhere, Keras 3 for Functional in input/output lists only."""
    if entry.get("class_name") not in CONTAINERS:
        return 0
    cfg = entry["config"]
    if "input_layers" in cfg:
        return int(keras2 or io)
    layers = cfg.get("layers") or [{}]
    return int(keras2 and layers[0].get("class_name") == "InputLayer")


def check_wiring(cfg: dict, where: str) -> None:
    """ModelError naming the layer unless every Functional config in `cfg` (nested ones too)
    is wired to known layers, calls each non-input layer, and lets tf_keras finish."""
    stack = [cfg]
    while stack:
        model = stack.pop()
        inner = model.get("config")
        layers = inner.get("layers") if isinstance(inner, dict) else None
        if not isinstance(layers, list):
            raise ModelError(f"{where}: the model config has no layer list")
        stack.extend(e for e in layers if isinstance(e, dict) and e.get("class_name")
                     in CONTAINERS)
        if "input_layers" in inner:
            try:
                _check_functional(inner, where)
            except RecursionError:
                raise ModelError(f"{where}: the model config nests too deeply") from None


def _check_functional(cfg: dict, where: str) -> None:
    entries = _entries(cfg["layers"], where)
    calls: dict[str, list] = {}
    for name, e in entries.items():
        nodes = e.get("inbound_nodes")
        if not isinstance(nodes, list):
            raise ModelError(f"{where}: layer {name!r} has no inbound_nodes list")
        if e.get("class_name") == "InputLayer":
            if nodes:
                raise ModelError(f"{where}: input layer {name!r} lists inbound nodes")
            continue
        if not nodes:
            raise ModelError(f"{where}: layer {name!r} is never called (no inbound nodes); "
                             "every layer of a Functional model except its inputs must be")
        for node in nodes:
            _refs(node, name, entries, where)
        calls[name] = [_tf_keras_reads(node) for node in nodes]
    for key in ("input_layers", "output_layers"):
        for layer, _, _ in _io_refs(cfg.get(key), key, entries, where):
            if key == "input_layers" and entries[layer].get("class_name") != "InputLayer":
                raise ModelError(f"{where}: model input {layer!r} is not an InputLayer")
    stuck = _replay(entries, calls)
    if stuck:
        name, (layer, k) = stuck
        raise ModelError(f"{where}: layer {name!r} reads call {k!r} of layer {layer!r}, which "
                         "the model never makes (a cycle, or a layer without that call)")


def _tf_keras_reads(node) -> tuple[list, bool]:
    """What tf_keras' reconstruct_from_config reads of one call, in its order: the (layer,
    call) refs (a ref's kwargs first) up to the first item that makes it raise, and whether
    one does (loading stops there)."""
    reads = []
    for kind, v in _leaves(node):
        if kind == "leaf":
            return reads, True
        kwargs = v[3] if len(v) == 4 else None
        reads.extend((kw[0], kw[1]) for what, kw in _leaves(kwargs) if what == "ref")
        if v[0] != CONSTANT:
            reads.append((v[0], v[1]))
    return reads, False


def _leaves(v):
    """tf.nest.flatten as tf_keras applies it: [str, call, tensor(, kwargs)] lists are atoms,
    dict values in sorted key order."""
    if isinstance(v, list) and len(v) in (3, 4) and isinstance(v[0], str):
        yield "ref", v
    elif isinstance(v, dict):
        for key in sorted(v, key=str):
            yield from _leaves(v[key])
    elif isinstance(v, (list, tuple)):
        for x in v:
            yield from _leaves(x)
    else:
        yield "leaf", v


def _replay(entries: dict, calls: dict):
    """tf_keras' queue on the config: each layer's calls in order, a call once every layer
    call it reads exists (an input layer's at any index). None when it ends (every call made,
    or one that raises reached), else (layer, the (layer, call) it waits for forever)."""
    made = dict.fromkeys(entries, 0)

    def exists(layer: str, k) -> bool:
        e = entries.get(layer)
        if e is None:
            return True   # tf_keras raises KeyError: loading stops
        if e.get("class_name") == "InputLayer":
            return True
        skip = first_call(e, True, False)
        return isinstance(k, int) and skip <= k < skip + made[layer]

    queues = {name: deque(c) for name, c in calls.items()}
    blocked: dict[tuple, list[str]] = {}
    ready = deque(queues)
    while ready:
        name = ready.popleft()
        queue = queues[name]
        while queue:
            reads, raises = queue[0]
            missing = next((r for r in reads if not exists(*r)), None)
            if missing:
                blocked.setdefault((missing[0], repr(missing[1])), []).append(name)
                break
            if raises:
                return None
            queue.popleft()
            made[name] += 1
            done = (name, repr(first_call(entries[name], True, False) + made[name] - 1))
            ready.extend(blocked.pop(done, ()))
    for name, queue in queues.items():
        if queue:
            return name, next(r for r in queue[0][0] if not exists(*r))
    return None


def _entries(layers: list, where: str) -> dict[str, dict]:
    entries: dict[str, dict] = {}
    for e in layers:
        cfg = e.get("config") if isinstance(e, dict) else None
        name = e.get("name", cfg.get("name")) if isinstance(cfg, dict) else None
        if not isinstance(name, str) or cfg.get("name", name) != name:
            raise ModelError(f"{where}: the model config has a layer entry without a "
                             "consistent name")
        if name in entries:
            raise ModelError(f"{where}: two layers are named {name!r}")
        entries[name] = e
    return entries


def _ref(raw, layer: str, entries: dict, where: str) -> tuple[str, int, int]:
    name, k, t = raw[0], raw[1], raw[2]
    if name not in entries:
        raise ModelError(f"{where}: layer {layer!r} reads layer {name!r}, which the model "
                         "does not have")
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in (k, t)):
        raise ModelError(f"{where}: layer {layer!r} reads {name!r} at node {k!r} tensor "
                         f"{t!r}; both must be integers >= 0")
    return name, k, t


def _refs(node, layer: str, entries: dict, where: str) -> list:
    """The (layer, call, tensor) refs one call reads, each to a known layer at integer
    indices: Keras 2 lists [layer, call, tensor(, kwargs)] anywhere in the node, kwargs
    included; Keras 3 nests __keras_tensor__ entries with their keras_history."""
    legacy = isinstance(node, list)
    found, stack = [], [node]
    while stack:
        v = stack.pop()
        if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
            history = (v.get("config") or {}).get("keras_history") \
                if isinstance(v.get("config"), dict) else None
            if not isinstance(history, list) or len(history) != 3:
                raise ModelError(f"{where}: layer {layer!r} has a malformed input tensor")
            found.append(_ref(history, layer, entries, where))
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif legacy and isinstance(v, list) and len(v) in (3, 4) and isinstance(v[0], str):
            if v[0] != CONSTANT:
                found.append(_ref(v, layer, entries, where))
            stack.extend(v[3:])
        elif isinstance(v, list):
            stack.extend(v)
    if not found and not (node and isinstance(node, (list, dict))):
        raise ModelError(f"{where}: layer {layer!r} has a malformed inbound node")
    return found


def _io_refs(spec, key: str, entries: dict, where: str) -> list:
    """input_layers / output_layers: [[layer, call, tensor], ...] (Keras 3 may store one
    unnested)."""
    spec = [spec] if isinstance(spec, list) and spec and isinstance(spec[0], str) else spec
    if not isinstance(spec, list) or not spec or not all(
            isinstance(r, list) and len(r) == 3 and isinstance(r[0], str) for r in spec):
        raise ModelError(f"{where}: the model config's {key} is malformed")
    return [_ref(r, key, entries, where) for r in spec]
