"""Reading targets: a shipped core or board by name, or a user's .toml file. A board file names
its core and inherits what it does not say; every key is checked and a wrong one is named with
its file in a one-line TargetError."""
from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path

from ..resources import resource_dir
from .fields import check_cflags, check_word
from .target import KINDS, NAME, Region, Target, TargetError, check_regions, parse_size


def known_targets() -> dict[str, Path]:
    """Name -> file of every shipped core and board (file stem = target name)."""
    root = resource_dir("targets")
    found = {f.stem: f for sub in ("boards", "cores", "mobile")
             for f in sorted((root / sub).glob("*.toml"))}
    return dict(sorted(found.items()))


def load_target(name_or_path: str | Path) -> Target:
    """The target named (a shipped core or board) or read from a .toml path."""
    if isinstance(name_or_path, Target):
        return name_or_path
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text:
        return _load_file(Path(text))
    known = known_targets()
    if text not in known:
        close = difflib.get_close_matches(text, list(known), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise TargetError(f"unknown target {text!r}; {hint}known targets: {', '.join(known)}")
    return _load_file(known[text])


def _load_file(path: Path, seen: tuple[Path, ...] = ()) -> Target:
    if not path.is_file():
        raise TargetError(f"target file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise TargetError(f"{path}: not a UTF-8 text file (byte {e.start}); a target file is "
                          "TOML") from None
    except tomllib.TOMLDecodeError as e:
        raise TargetError(f"{path}: {_syntax_error(path, e)}") from None
    name = _keyed(path, "name", check_word, data.get("name", path.stem))
    core_name = data.get("core")
    base = None
    if core_name is not None:
        core_path = known_targets().get(core_name)
        if core_path is None or core_path.resolve() in seen + (path.resolve(),):
            raise TargetError(f"{path}: unknown or circular core {core_name!r}")
        base = _load_file(core_path, seen + (path.resolve(),))
    return _build(path, name, data, base)


def _build(path: Path, name: str, data: dict, base: Target | None) -> Target:
    def pick(key, default=None):
        return data.get(key, getattr(base, key) if base is not None else default)

    _check_keys(path, data)
    if data.get("kind") == "mobile":     # phones / Linux SoCs: a .tflite for LiteRT, no C build
        return Target(name=name, kind="mobile", core="", cflags=(), qemu_machine="", regions=(),
                      description=str(data.get("description", "")), default_format="tflite",
                      path=path)
    qemu = data.get("qemu", {})
    machine = qemu.get("machine", base.qemu_machine if base else None)
    cflags = pick("cflags")
    if not machine or not cflags:
        raise TargetError(f"{path}: needs cflags and [qemu] machine (or a core that has them)")
    cpu = qemu.get("cpu", base.qemu_cpu if base else None) or None
    machine = _keyed(path, "qemu.machine", check_word, machine)
    cpu = cpu and _keyed(path, "qemu.cpu", check_word, cpu)
    raw = data.get("regions")
    regions = base.regions if raw is None and base is not None else tuple(
        _region(path, r) for r in (raw or []))
    clock = data.get("clock_hz", base.clock_hz if base else None)
    return Target(
        name=name, kind="board" if base is not None else data.get("kind", "core"),
        core=base.core if base is not None else name,
        cflags=_keyed(path, "cflags", check_cflags, cflags),
        qemu_machine=machine, qemu_cpu=cpu, regions=check_regions(str(path), regions),
        features=tuple(_keyed(path, "features", check_word, f) for f in pick("features", ())),
        stack_size=parse_size(pick("stack_size", 16384)),
        heap_size=parse_size(pick("heap_size", 0)),
        clock_hz=None if clock is None else int(clock),
        description=str(data.get("description", "")), path=path)


def _region(path: Path, raw: dict) -> Region:
    if not isinstance(raw, dict):
        raise TargetError(f"{path}: key 'regions' must be an array of tables ([[regions]])")
    where = f"regions[{raw.get('name', '?')}]"
    for key in ("base", "size"):
        if key in raw:
            _keyed(path, f"{where}.{key}", parse_size, raw[key])
    try:
        r = Region(str(raw["name"]), str(raw["kind"]), int(parse_size(raw["base"])),
                   parse_size(raw["size"]))
    except KeyError as e:
        raise TargetError(f"{path}: region needs name, kind, base and size (missing {e})") from None
    if not NAME.match(r.name):
        raise TargetError(f"{path}: region name {r.name!r} must match {NAME.pattern}")
    if r.kind not in KINDS:
        raise TargetError(f"{path}: region {r.name!r} kind must be one of {KINDS}")
    if r.size <= 0 or r.base < 0 or r.end > 1 << 32:
        raise TargetError(f"{path}: region {r.name!r} must lie in the 32-bit address space")
    return r


def _keyed(path: Path, key: str, convert, value):
    """convert(value), or a TargetError naming the file, the key and (from a ValueError or
    TargetError) what is wrong."""
    try:
        return convert(value)
    except (TargetError, TypeError, ValueError) as e:
        why = f"bad value {value!r}" if isinstance(e, TypeError) else str(e)
        raise TargetError(f"{path}: key {key!r}: {why}") from None


def _check_keys(path: Path, data: dict) -> None:
    """Typed top-level keys of a target file: a wrong one is named in the error."""
    def strings(v):
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise TypeError(v)
    def integer(v):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise TypeError(v)
    for key, check in (("cflags", strings), ("features", strings), ("stack_size", parse_size),
                       ("heap_size", parse_size), ("clock_hz", integer)):
        if key in data:
            _keyed(path, key, check, data[key])
    for key in ("regions", "qemu"):
        if key in data and not isinstance(data[key], list if key == "regions" else dict):
            raise TargetError(f"{path}: key {key!r} must be "
                              + ("an array of tables ([[regions]])" if key == "regions"
                                 else "a table ([qemu])"))


def _syntax_error(path: Path, err: Exception) -> str:
    """tomllib's message, with the key on the offending line named when there is one."""
    m = re.search(r"at line (\d+)", str(err))
    lines = path.read_text(encoding="utf-8").splitlines()
    if not m or not 0 < int(m.group(1)) <= len(lines):
        return f"malformed TOML: {err}"
    line = lines[int(m.group(1)) - 1]
    key = line.split("=", 1)[0].strip() if "=" in line else ""
    named = f"key {key!r}: " if key and not key.startswith("[") else ""
    return f"malformed TOML at line {m.group(1)}: {named}{err} (line: {line.strip()!r})"
