"""Many models x many boards in one table (`fitml check A B --target X --target Y`).

A `Cell` is one check's outcome as plain data (so it crosses process and Ray boundaries);
`render` prints the matrix as aligned text, Markdown or JSON: a row per model, a column per
target, each cell the verdict in a few words.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from ..util.text import printable
from .fit_report import FitReport

SCHEMA = "fitml.matrix/1"


@dataclass(frozen=True)
class Cell:
    model: str
    target: str
    status: str                    # "fits", "does not fit" or "error"
    verdict: str                   # the fit report's verdict line, or the error line
    regions: dict = field(default_factory=dict)   # region -> {"used", "capacity"}

    @classmethod
    def of(cls, model: str, target: str, report: FitReport) -> Cell:
        """From a FitReport, or a phone target's report (no regions: its verdict only)."""
        regions = {r.name: {"used": r.used, "capacity": r.capacity}
                   for r in getattr(report, "regions", ())}
        return cls(model, target, "fits" if report.fits else "does not fit", report.verdict(),
                   regions)

    @property
    def short(self) -> str:
        """A few words: the tightest region's use when it fits, the overflows when not."""
        if self.status == "error":
            return "error: " + self.verdict[:60]
        use = {k: v["used"] / v["capacity"] for k, v in self.regions.items() if v["capacity"]}
        if not use:                                  # a phone target: no memory regions
            return self.status
        if self.status == "fits":
            name = max(use, key=use.get)
            return f"fits ({name} {use[name]:.0%})"
        over = [f"{k} +{v['used'] - v['capacity']:,} B" for k, v in self.regions.items()
                if v["used"] > v["capacity"]]
        return "NO: " + ", ".join(over)


def exit_code(cells: list[Cell]) -> int:
    """2 if any check failed with an error, else 1 if any model does not fit, else 0."""
    if any(c.status == "error" for c in cells):
        return 2
    return 1 if any(c.status != "fits" for c in cells) else 0


def render(cells: list[Cell], fmt: str) -> str:
    models = list(dict.fromkeys(c.model for c in cells))
    targets = list(dict.fromkeys(c.target for c in cells))
    at = {(c.model, c.target): c for c in cells}
    if fmt == "json":
        return json.dumps({"schema": SCHEMA, "models": models, "targets": targets,
                           "cells": [asdict(c) for c in cells]}, indent=2) + "\n"
    rows = [[printable(m)] + [at[m, t].short for t in targets] for m in models]
    head = ["model"] + targets
    if fmt == "md":
        esc = lambda s: s.replace("|", "\\|")
        out = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
        return "\n".join(out) + "\n"
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]) \
        + "\n"
