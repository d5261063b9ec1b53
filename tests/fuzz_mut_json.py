"""JSON config mutators shared by the Keras (.h5 attribute, .keras member) and .pt2 (model and
weights config members) fuzzers: a random value anywhere in the tree, key-targeted edits
(class names, units, shapes, op targets), and text-level damage (truncation, deep nesting)."""
from __future__ import annotations

import json
import random

from fuzz_mutators import HUGE, Skip

LAYER_CLASSES = ("Dense", "Conv2D", "Lambda", "TFOpLambda", "Custom>Foo", "Functional",
                 "Sequential", "InputLayer", "BatchNormalization", "Reshape", "Add",
                 "Concatenate", "LSTM", "TimeDistributed", "", "Model", "Softmax")
STRINGS = ("", "same", "valid", "nonexistent", "*/ #error x /*", "a\nb", "../../etc/passwd",
           "x" * 10_000, "os.system", "builtins.eval", "\u2603")
TARGETED = {
    "class_name": LAYER_CLASSES, "units": (0, -1, 2**31 - 1, 10**12, 3.5, "3"),
    "filters": (0, -1, 2**31 - 1, 10**9), "kernel_size": ([0, 0], [-1, 3], [2**31, 1], [3]),
    "strides": ([0, 0], [-2, 1], [2**31 - 1, 1], []), "padding": ("full", "", 7),
    "activation": ("no_such_activation", "exponential", None, {"class_name": "Foo"}),
    "batch_input_shape": ([None, 0, 8, 2], [None, -1, 8, 2], [None, 2**31, 8, 2], [None]),
    "batch_shape": ([None, 0, 8, 2], [None, -1, 8, 2], [None, 2**31, 8, 2], []),
    "input_shape": ([0, 8], [-3], [2**40]), "target_shape": ([0], [-1, -1], [2**31, 2]),
    "module": ("os", "builtins", "keras.layers", ""),
    "target": ("torch.ops.aten.abs.default", "torch.ops.aten.nonzero.default",
               "builtins.eval", "torch.ops.aten.no_such_op.default", "_operator.getitem", ""),
    "as_ints": ([], [0, 0], [-1, 2**62], [2**31 - 1] * 2), "as_int": (0, -1, 2**62),
    "dtype": (0, 99, -1, "float64", "int8", "string"), "path_name": ("../../etc/passwd",
                                                                      "weight_9", ""),
    "use_pickle": (True,), "inbound_nodes": ([], [[["nonexistent", 0, 0, {}]]], None),
}


def _nodes(obj, path=()):
    """Every (container, key, path) in the JSON tree."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) \
        if isinstance(obj, list) else ()
    for key, value in items:
        yield obj, key, path + (key,)
        yield from _nodes(value, path + (key,))


def _new_value(rng: random.Random, old):
    if isinstance(old, bool):
        return not old
    if isinstance(old, int):
        return rng.choice((0, -1, old + 1, -old, 2**31 - 1, 2**63, 1.5) + HUGE[:2])
    if isinstance(old, float):
        return rng.choice((0.0, -1.0, 1e308, float("nan")))
    if isinstance(old, str):
        return rng.choice(STRINGS)
    if isinstance(old, list):
        return rng.choice(([], old[:-1], old + old[:1], [None], "not a list"))
    if isinstance(old, dict):
        return rng.choice(({}, None, [], "not a dict"))
    return rng.choice((0, "", [], {}))


def edit_tree(obj, rng: random.Random) -> str:
    """Edit one value of the JSON tree in place; returns what was done."""
    nodes = list(_nodes(obj))
    if not nodes:
        raise Skip
    targeted = [n for n in nodes if n[1] in TARGETED]
    if targeted and rng.random() < 0.7:
        parent, key, path = rng.choice(targeted)
        new = rng.choice(TARGETED[key])
    else:
        parent, key, path = rng.choice(nodes)
        if isinstance(parent, dict) and rng.random() < 0.2:
            del parent[key]
            return f"{'/'.join(map(str, path))[-90:]} deleted"
        new = _new_value(rng, parent[key])
    parent[key] = new
    return f"{'/'.join(map(str, path))[-90:]} -> {json.dumps(new)[:40]}"


def mutate_json(text: bytes, rng: random.Random) -> tuple[bytes, str]:
    """A structure edit (80%) or text damage of a JSON document."""
    how = rng.random()
    if how < 0.8:
        try:
            obj = json.loads(text)
        except ValueError:
            raise Skip from None
        what = edit_tree(obj, rng)
        return json.dumps(obj).encode(), what
    damage = rng.choice(("truncate", "deep nesting", "not an object", "invalid utf-8",
                         "empty", "huge number"))
    if damage == "truncate":
        return text[: rng.randrange(max(len(text), 1))], "JSON truncated"
    if damage == "deep nesting":
        return b"[" * 200_000 + b"]" * 200_000, "JSON nested 200000 deep"
    if damage == "not an object":
        return rng.choice((b"[]", b"null", b"42", b'"x"')), "JSON not an object"
    if damage == "invalid utf-8":
        return text.replace(b'"', b'"\xff\xfe', 1), "JSON invalid UTF-8"
    if damage == "empty":
        return b"", "JSON empty"
    return text.replace(b"1", b"1" + b"0" * 5000, 1), "JSON 5000-digit number"
