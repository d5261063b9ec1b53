"""The packages of toolchain/ import one way: each only from the layers below it.

Every import is parsed (module level and inside functions) and mapped to its package; the test
fails on an import of a package of the same or a higher layer, on any circle between packages,
on a function-local import of a toolchain module, and on a function-local import of anything but
an optional or heavy dependency marked `# lazy: <reason>`. LAYERS is mirrored in
docs/architecture.md (checked below), where it is explained.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "toolchain"

# bottom to top; "toolchain" is the package root (toolchain/__init__.py: re-exports the API)
LAYERS = [
    ("errors", "resources", "version"),
    ("util",),
    ("targets",),
    ("ir",),
    ("arith",),
    ("plan",),
    ("lowering",),
    ("ops",),
    ("passes",),
    ("quant",),
    ("frontends", "backends"),
    ("verify",),
    ("report",),
    ("fit",),
    ("api",),
    ("cli",),
    ("toolchain",),
]
LAYER = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}

# what a function may import lazily (with a `# lazy:` reason): optional extras, heavy runtimes
OPTIONAL = {"torch", "tensorflow", "tf_keras", "keras", "h5py", "onnx", "onnxruntime",
            "onnxscript", "tflite_micro", "ai_edge_litert", "matplotlib", "ray",
            "tqdm",   # tqdm: its import (importlib.metadata) costs a warm check ~15%
            "multiprocessing", "concurrent"}   # only oracle runs use a process pool (~30 ms)

# files still importing toolchain modules inside functions, with the reason
PENDING: dict[str, str] = {}
# entry points that defer their toolchain imports on purpose (the layer rule still applies)
DEFERRED = {
    "__init__.py": "the package root re-exports the API on first use (PEP 562 __getattr__), "
                   "so `import toolchain.cli` does not import numpy and every model reader",
    "cli/__init__.py": "the console script answers an unchanged `check` from its result cache "
                       "(cli/memo.py) before importing the verbs",
}


def modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for f in sorted(PACKAGE.rglob("*.py")):
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (f, is_pkg)
    return out


def package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "toolchain"


def imports(module: str, path: Path, is_pkg: bool, known):
    """(line, target module or None for third-party, top-level name, local?, source line)."""
    text = path.read_text()
    lines, tree = text.splitlines(), ast.parse(text)
    local = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_pkg else module.split(".")[:-1]
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names]
            targets = [n if n in known else base for n in names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for t in dict.fromkeys(targets):
            ours = t == "toolchain" or t.startswith("toolchain.")
            yield (node.lineno, t if ours else None, t.split(".")[0], id(node) in local,
                   lines[node.lineno - 1])


def offenders() -> tuple[list[str], dict[str, set[str]]]:
    known, found, edges = modules(), [], {}
    for module, (path, is_pkg) in known.items():
        where, pkg = path.relative_to(PACKAGE).as_posix(), package(module)
        if pkg not in LAYER:
            found.append(f"{where}: package {pkg!r} is in no layer (add it to LAYERS and "
                         "docs/architecture.md)")
            continue
        for line, target, top, local, text in imports(module, path, is_pkg, known):
            at = f"toolchain/{where}:{line}"
            if target is None:
                if local and (top not in OPTIONAL or "# lazy:" not in text):
                    found.append(f"{at}: function-local import of {top} (only optional or heavy "
                                 "dependencies, marked '# lazy: <reason>')")
                continue
            if local and where not in PENDING and where not in DEFERRED:
                found.append(f"{at}: function-local import of {target}")
            dep = package(target)
            if dep == pkg or dep not in LAYER:
                continue
            edges.setdefault(pkg, set()).add(dep)
            if LAYER[dep] >= LAYER[pkg]:
                found.append(f"{at}: {pkg} (layer {LAYER[pkg]}) imports {target} "
                             f"({dep}, layer {LAYER[dep]}): not below it")
    return found, edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Package cycles: every package reached again from itself."""
    out = []
    for start in sorted(edges):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    out.append(path + [start])
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    return out


def test_imports_go_down_the_layers():
    found, _ = offenders()
    assert not found, "\n".join(["imports against the layering:"] + found)


def test_no_import_circle_between_packages():
    _, edges = offenders()
    found = circles(edges)
    assert not found, "\n".join(" -> ".join(c) for c in found)


def test_every_pending_exception_is_still_needed():
    known = modules()
    still = {path.relative_to(PACKAGE).as_posix() for m, (path, is_pkg) in known.items()
             for _, t, _, local, _ in imports(m, path, is_pkg, known) if local and t}
    assert set(PENDING) <= still, f"no longer needed: {set(PENDING) - still}"


def test_docs_list_the_same_layers():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    rows = re.findall(r"^\|\s*(\d+)\s*\|([^|]+)\|", doc, re.M)
    listed = [tuple(re.findall(r"`([\w]+)`", cells)) for _, cells in rows]
    assert listed == [tuple(layer) for layer in LAYERS], \
        "docs/architecture.md's layer table differs from LAYERS"
