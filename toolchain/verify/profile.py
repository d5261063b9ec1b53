"""`fitml verify --profile`: instructions per op, their mix, and ESTIMATED cycles and time.

A profile build is the normal harness build plus one marker call before every op of the
generated schedule and one after the last (`emit_c(profile=True)`; normal builds are byte-
identical without them). The insn_count plugin snapshots its counts at each marker, so the ops'
instructions and the harness's (input/output copies before the first and after the last op)
add up exactly to the profile run's total. The markers cost one call instruction each (their
own NOP and return are not counted), so the profile run counts `len(ops) + 1` instructions more
than the normal build. Cycles come from the instruction mix and the core's timing table
(cycles.py): an estimate, and so are the milliseconds at the board's clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .cycles import Timing, timing_for

COUNTS = ("instructions", "load_store", "multiply", "branch", "extra_registers")


@dataclass(frozen=True)
class Span:
    """One op (or the harness part) of a profile run: exact counts, by class."""
    name: str
    kind: str
    macs: int
    instructions: int
    load_store: int
    multiply: int
    branch: int
    extra_registers: int
    index: int | None = None          # the op's index in the generated schedule

    @property
    def other(self) -> int:
        return self.instructions - self.load_store - self.multiply - self.branch

    def counts(self) -> dict:
        return {"load_store": self.load_store, "multiply": self.multiply,
                "branch": self.branch, "other": self.other,
                "extra_registers": self.extra_registers}


def spans(marks: list[tuple[int, ...]], ops: list[tuple[str, str, int]]) -> tuple[list[Span], Span]:
    """(per-op spans, harness span) from the plugin's snapshots [begin, before op 0, ...,
    after the last op, end] and the schedule's ops as (output, kind, MACs)."""
    if len(marks) != len(ops) + 3:
        raise ValueError(f"profile: {len(marks)} markers for {len(ops)} ops (want {len(ops) + 3})")
    diff = lambda a, b: [y - x for x, y in zip(a, b)]  # noqa: E731
    out = [Span(name, kind, macs, *diff(marks[i + 1], marks[i + 2]), index=i)
           for i, (name, kind, macs) in enumerate(ops)]
    head, tail = diff(marks[0], marks[1]), diff(marks[-2], marks[-1])
    harness = Span("harness: input/output copies, entry and return", "harness", 0,
                   *[a + b for a, b in zip(head, tail)])
    return out, harness


@dataclass
class Profile:
    target: str
    core: str
    clock_hz: int | None
    ops: list[Span]
    harness: Span
    normal_instructions: int | None = None     # the same inputs on the normal (marker-free) build
    timing: Timing | None = field(default=None)

    def __post_init__(self):
        if self.timing is None:
            self.timing = timing_for(self.core)

    @property
    def instructions(self) -> int:
        return sum(s.instructions for s in self.ops) + self.harness.instructions

    def cycles(self, span: Span) -> float | None:
        return None if self.timing is None else self.timing.cycles(span.counts())

    @property
    def total_cycles(self) -> float | None:
        if self.timing is None:
            return None
        return sum(self.cycles(s) for s in [*self.ops, self.harness])

    def ms(self, cycles: float | None) -> float | None:
        return None if cycles is None or not self.clock_hz else 1000.0 * cycles / self.clock_hz

    def to_dict(self) -> dict:
        def one(s: Span) -> dict:
            c = self.cycles(s)
            return {"index": s.index, "kind": s.kind, "output": s.name, "macs": s.macs,
                    "instructions": s.instructions, **s.counts(),
                    "est_cycles": None if c is None else round(c),
                    "est_ms": self.ms(c)}
        total = self.total_cycles
        return {"target": self.target, "core": self.core, "clock_hz": self.clock_hz,
                "instructions": self.instructions,
                "normal_instructions": self.normal_instructions,
                "marker_instructions": len(self.ops) + 1,
                "est_cycles": None if total is None else round(total),
                "est_ms": self.ms(total), "estimate_note": estimate_note(self),
                "timing_source": None if self.timing is None else self.timing.source,
                "ops": [one(s) for s in self.ops], "harness": one(self.harness)}


def estimate_note(p: Profile) -> str:
    if p.timing is None:
        return f"no timing table for {p.core}: cycles not estimated"
    clock = (f"; ms at {p.clock_hz / 1e6:g} MHz" if p.clock_hz else
             f"; no clock for {p.target} (a core: give a board target for milliseconds)")
    return ("cycles and ms are ESTIMATES from the instruction mix and a per-core timing table "
            "(zero-wait memory, no pipeline effects); instructions are exact" + clock)


def _cell(v, fmt="{:,.0f}") -> str:
    return "-" if v is None else fmt.format(v)


def render_text(d: dict) -> str:
    """A profile (`Profile.to_dict()`) as terminal text: the per-op table, the totals and the
    estimate's caveat."""
    rows = [["#", "op", "MACs", "instructions", "insn/MAC", "ld/st", "mul", "branch",
             "est. cycles", "est. ms", "share"]]
    total = d["instructions"] or 1
    for s in [*d["ops"], d["harness"]]:
        rows.append(["" if s["index"] is None else str(s["index"]), s["kind"], f"{s['macs']:,}",
                     f"{s['instructions']:,}",
                     f"{s['instructions'] / s['macs']:.2f}" if s["macs"] else "-",
                     f"{s['load_store']:,}", f"{s['multiply']:,}", f"{s['branch']:,}",
                     _cell(s["est_cycles"]), _cell(s["est_ms"], "{:.3f}"),
                     f"{100 * s['instructions'] / total:.1f}%"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(w) if i == 1 else v.rjust(w)
                       for i, (v, w) in enumerate(zip(r, widths))).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    ms = f", est. {d['est_ms']:.3f} ms at {d['clock_hz'] / 1e6:g} MHz" if d["est_ms"] else ""
    lines.append(f"total {d['instructions']:,} instructions (exact, profile build); est. "
                 f"{_cell(d['est_cycles'])} cycles{ms}")
    if d["normal_instructions"] is not None:
        lines.append(f"normal build: {d['normal_instructions']:,} instructions; the profile's "
                     f"{d['marker_instructions']} marker calls add "
                     f"{d['instructions'] - d['normal_instructions']:+,}")
    lines.append(f"NOTE: {d['estimate_note']}")
    if d["timing_source"]:
        lines.append(f"timing table: {d['timing_source']}")
    return "\n".join(lines) + "\n"
