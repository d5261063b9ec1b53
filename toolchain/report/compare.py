"""A fit report beside an older one (`fitml check --baseline OLD.json`): what grew, for a PR.

Compares two fit reports' JSON (schema "fitml.fit/1"): each memory region's used bytes, the
arena, the flash split (code, int8 weights, pre-widened layouts, parameters), the stack, MACs
and the measured instructions. `growth` picks the rows that grew by more than a percentage,
the `--fail-on-growth` gate.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .fit_report import SCHEMA

MAX_REPORT_BYTES = 64 << 20


@dataclass(frozen=True)
class Delta:
    what: str
    old: int | None
    new: int | None

    @property
    def change(self) -> int | None:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def percent(self) -> float | None:
        if self.change is None:
            return None
        return 0.0 if self.change == 0 else 100.0 * self.change / self.old if self.old else None


def read_baseline(path) -> dict:
    """The JSON of an earlier `fitml check --format json` (UsageError naming the file if not)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise UsageError(f"--baseline {path}: larger than a fit report can be")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"--baseline {path}: not a readable JSON fit report "
                         f"({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise UsageError(f"--baseline {path}: not a fit report (want the JSON of `fitml check "
                         f"--format json`, schema {SCHEMA!r})")
    return data


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _metrics(report: dict) -> dict[str, int | None]:
    out = {f"region {r.get('name')} used B": _int(r.get("used"))
           for r in report.get("regions", []) if isinstance(r, dict)}
    split = report.get("flash_split") if isinstance(report.get("flash_split"), dict) else {}
    measured = report.get("measured") if isinstance(report.get("measured"), dict) else {}
    out.update({
        "arena B": _int(report.get("activations_peak_bytes")),
        "code B": _int(report.get("code_bytes")),
        "int8 weights B": _int(split.get("int8_weights")),
        "DSP layouts B": _int(split.get("layouts")),
        "parameters B": _int(split.get("params", report.get("params_bytes"))),
        "stack B": _int(report.get("stack_bytes")),
        "MACs": _int(report.get("macs")),
        "instructions": _int(measured.get("instructions")),
    })
    return out


def compare(old: dict, new: dict) -> list[Delta]:
    """Every metric either report has, in the new report's order (then the old-only ones)."""
    a, b = _metrics(old), _metrics(new)
    return [Delta(k, a.get(k), b.get(k)) for k in dict.fromkeys([*b, *a])
            if a.get(k) is not None or b.get(k) is not None]


def growth(deltas: list[Delta], percent: float) -> list[Delta]:
    """The rows that grew by more than `percent` (from zero: any growth)."""
    return [d for d in deltas if d.change is not None and d.change > 0 and
            (d.percent is None or d.percent > percent)]


def _cell(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


def _change(d: Delta) -> str:
    if d.change is None:
        return "-"
    pct = "" if d.percent is None else f" ({d.percent:+.1f}%)"
    return f"{d.change:+,}{pct}"


def render(deltas: list[Delta], markdown: bool, old_name: str) -> str:
    """The comparison as an aligned table or Markdown (a PR comment)."""
    rows = [[d.what, _cell(d.old), _cell(d.new), _change(d)] for d in deltas]
    if markdown:
        out = [f"**Against {old_name}:**", "", "| | before | after | change |",
               "|---|---:|---:|---:|"] + ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out) + "\n"
    head = ["against " + old_name, "before", "after", "change"]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(4)]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]) \
        + "\n"
