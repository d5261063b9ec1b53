"""The operator table of docs/ops.md, derived from the code (docs/gen.py writes it):

- ops: the op registry (`toolchain.ops.registry`), one row per registered kind;
- reference dtypes: the dtype pairs of ops with kernel variants (`registry.dtype_pairs`), else
  the op module's `DTYPES`, else (marked) the dtypes of its C kernels;
- C kernels: the runtime sources (`runtime_c/src/portable`, `dsp`, `mve`) whose names the op's
  class and registered variants name (their source, and the helpers they call), or that start
  with `fitml_<kind>`; a kernel's dtype is read from its name's suffix (`_s8`, `_f32`, ...);
- frontends: the converter tables (`CONVERTERS` of ONNX and torch.export, Keras `LAYERS` and
  their `needs`): an op type maps to the kinds its converter (and helpers it calls) names;
  TFLite reads every builtin operator by name.
"""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
from types import FunctionType

from ai_edge_litert import schema_py_generated as schema

from toolchain.backends import cruntime
from toolchain.frontends import keras_builder, onnx, onnx_node, torch_common, torch_export  # noqa
from toolchain.frontends import keras  # noqa: F401  (registers the Keras layers)
from toolchain.ops import registry

TOKENS = {"f32": "float32", "s8": "int8", "s16": "int16", "s32": "int32", "u8": "uint8",
          "s8s4": "int8 x int4 weights", "hybrid": "hybrid", "bool": "bool"}
PAIRS = {("int16", "int8"): "16x8", ("int8", "int4"): "int8 x int4 weights",
         ("float32", "int8"): "hybrid (int8 weights)", ("float32", "int4"): "hybrid (int4 weights)"}
BUILTINS = set(vars(schema.BuiltinOperator))
KINDS = set(registry.supported())
HELPER_PACKAGES = ("toolchain.ops", "toolchain.lowering", "toolchain.frontends")


def _tree(fn) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _scope(fn) -> dict:
    return getattr(fn, "__globals__", None) or vars(inspect.getmodule(fn))


def _names_kind(call: ast.Call) -> bool:
    """A call passing an op kind literal (the helper's output is decided by its caller)."""
    return any(isinstance(a, ast.Constant) and a.value in KINDS
               for a in list(call.args) + [k.value for k in call.keywords])


def _helpers(fn, node: ast.AST, skip_kind_calls: bool) -> list:
    """The module-level functions of fitml's ops / lowering / frontends that `fn` calls."""
    found = []
    scope = _scope(fn)
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        if skip_kind_calls and _names_kind(call):
            continue
        f, obj = call.func, None
        if isinstance(f, ast.Name):
            obj = scope.get(f.id)
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            obj = getattr(scope.get(f.value.id), f.attr, None)
        if isinstance(obj, FunctionType) and obj.__module__.startswith(HELPER_PACKAGES):
            found.append(obj)
    return found


def _walk(fn, visit, depth: int = 3, seen=None, skip_kind_calls: bool = False) -> None:
    """visit(fn, tree) on `fn` and the helpers it calls, `depth` calls deep."""
    seen = set() if seen is None else seen
    tree = _tree(fn)
    if tree is None or fn in seen:
        return
    seen.add(fn)
    visit(fn, tree)
    if depth:
        for helper in _helpers(fn, tree, skip_kind_calls):
            _walk(helper, visit, depth - 1, seen, skip_kind_calls)


def _kernel_patterns(tree: ast.AST, kind: str) -> list[str]:
    """Regexes of the kernel names a function spells: literals and f-strings (a formatted
    value mentioning `kind` is the op's own name, any other one of the function's words)."""
    words = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
             and isinstance(n.value, str) and re.fullmatch(r"[a-z0-9_]+", n.value)]
    word = "(" + "|".join(map(re.escape, words)) + ")" if words else r"\w+"
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            out.append(re.escape(n.value))
        elif isinstance(n, ast.JoinedStr):
            out.append("".join(re.escape(v.value) if isinstance(v, ast.Constant) else
                               re.escape(kind.lower()) if "kind" in ast.unparse(v) else word
                               for v in n.values))
    return [p for p in out if p.startswith("fitml_")]


def kernels(kind: str) -> list[str]:
    """The runtime kernels (file stems) op `kind` lowers to."""
    stems = set(cruntime.kernel_files())
    patterns: list[str] = []
    classes = [c for c in registry.get(kind).__mro__
               if c.__module__.startswith("toolchain.ops") and c.__name__ != "OpDef"]
    fns = classes + list(registry.variants(kind).values())
    for fn in fns:
        _walk(fn, lambda _, tree: patterns.extend(_kernel_patterns(tree, kind)))
    base = f"fitml_{kind.lower()}"
    longer = [f"fitml_{k.lower()}" for k in registry.all_defs() if k.lower().startswith(
        kind.lower() + "_")]                 # TRANSPOSE_CONV's kernels are not TRANSPOSE's
    found = {s for s in stems if (s == base or s.startswith(base + "_")) and not any(
        s == b or s.startswith(b + "_") for b in longer)}
    found |= {s for s in stems for p in patterns if re.fullmatch(p, s)}
    return sorted(found)


ORDER = ("float32", "int8", "int16", "16x8", "int32", "int64", "uint8", "int8 x int4 weights",
         "hybrid")


def ordered(labels) -> list[str]:
    """Dtype labels, de-duplicated, in ORDER (conversions and others after, by name)."""
    labels = list(dict.fromkeys(labels))
    rank = {d: i for i, d in enumerate(ORDER)}
    return sorted(labels, key=lambda d: (rank.get(d, len(ORDER)), d))


def kernel_dtype(stem: str) -> str:
    words = [TOKENS[w] for w in stem.split("_")[1:] if w in TOKENS]
    if "hybrid" in words:
        return "hybrid"
    return "→".join(words) if words else "any (bytes)"


def reference_dtypes(kind: str, c_dtypes: list[str]) -> str:
    opdef = registry.get(kind)
    if opdef.signature is not None:
        pairs = sorted(registry.dtype_pairs(kind))
        return ", ".join(ordered(PAIRS.get(p, p[0]) for p in pairs))
    declared = getattr(inspect.getmodule(opdef), "DTYPES", None)
    if declared:
        return ", ".join(ordered(declared))
    return (", ".join(c_dtypes) + " †") if c_dtypes else "†"


def _mapped_kinds(fn, name: str) -> set[str]:
    """The op kinds converter `fn` emits for op type `name`: every kind its code names, a
    dict keyed by op types contributing only `name`'s entry."""
    found: set[str] = set()

    def visit(f, tree):
        keyed = set()
        for d in (n for n in ast.walk(tree) if isinstance(n, ast.Dict)):
            keys = [k.value for k in d.keys if isinstance(k, ast.Constant)]
            if keys and all(isinstance(k, str) and k not in KINDS for k in keys):
                keyed |= {id(n) for v in d.values for n in ast.walk(v)}
                for k, v in zip(keys, d.values):
                    if k == name:
                        found.update(c.value for c in ast.walk(v)
                                     if isinstance(c, ast.Constant) and c.value in KINDS)
        for n in ast.walk(tree):     # a module-level table keyed by op type: UNARY[n.op_type]
            table = _scope(f).get(n.id) if isinstance(n, ast.Name) else None
            if isinstance(table, dict) and name in table:
                found.update(_kind_strings(table[name]))
        for n in ast.walk(tree):
            if isinstance(n, (ast.Compare, ast.JoinedStr, ast.Raise)):
                keyed |= {id(c) for c in ast.walk(n)}
        found.update(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                     and n.value in KINDS and id(n) not in keyed)
    _walk(fn, visit, depth=1, skip_kind_calls=True)
    return found


def _kind_strings(value) -> set[str]:
    if isinstance(value, str):
        return {value} & KINDS
    if isinstance(value, (tuple, list)):
        return set().union(*(_kind_strings(v) for v in value)) if value else set()
    return set()


def frontend_names() -> dict[str, dict[str, list[str]]]:
    """kind -> frontend -> the op types / layers that map to it."""
    table: dict[str, dict[str, list[str]]] = {k: {} for k in KINDS}
    sources = {"ONNX": onnx_node.CONVERTERS, "torch.export": torch_common.CONVERTERS}
    for frontend, converters in sources.items():
        for name, fn in sorted(converters.items()):
            short = name.split(".")[1] if name.startswith("aten.") else name
            for kind in _mapped_kinds(fn, name):
                names = table[kind].setdefault(frontend, [])
                if short not in names:
                    names.append(short)
    for cls, (fn, needs) in sorted(keras_builder.LAYERS.items()):
        for kind in set(needs) or _mapped_kinds(fn, cls):
            table[kind].setdefault("Keras", []).append(cls)
    return table


def rows() -> list[list[str]]:
    """One row per registered op: kind, reference, C portable, C DSP / MVE, frontends."""
    special = {v: cruntime.runtime_dir() / "src" / v for v in ("dsp", "mve")}
    mapped = frontend_names()
    out = []
    for kind in registry.supported():
        stems = kernels(kind)
        portable = ordered(kernel_dtype(s) for s in stems)
        fast = [f"{d} ({v.upper()})" for v, path in special.items()
                for d in ordered(kernel_dtype(s) for s in stems if (path / f"{s}.c").is_file())]
        if not stems:
            portable = [no_kernel(kind)] if no_kernel(kind) else []
        names = mapped[kind]
        cells = [kind, reference_dtypes(kind, portable), ", ".join(portable) or "—",
                 ", ".join(dict.fromkeys(fast)) or "—", "yes" if kind in BUILTINS else "—"]
        cells += [", ".join(f"`{n}`" for n in names.get(f, [])) or "—"
                  for f in ("ONNX", "torch.export", "Keras")]
        out.append(cells)
    return out


def no_kernel(kind: str) -> str:
    """Why an op needs no C kernel: its output is its input's bytes, or a compile-time value."""
    opdef = registry.get(kind)
    if opdef.shape_only:
        return "folded at compile time"
    tree = _tree(opdef)
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)} if tree else ()
    return "any (alias, no copy)" if any(c.endswith("alias") for c in calls) else ""


def markdown() -> str:
    head = ["op", "reference", "C portable", "C DSP / MVE", "TFLite", "ONNX", "torch.export",
            "Keras"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
