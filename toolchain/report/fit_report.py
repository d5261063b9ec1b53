"""The fit report: what a model needs from a target, region by region, as plain data.

`FitReport` is computed by `toolchain.report.fit.fit`; `to_dict` / `to_json` give its JSON (schema
"fitml.fit/1", documented in docs/report-schema.md). The terminal table and Markdown for CI
job summaries are in text.py, the SVG / PNG memory timeline in plot.py, the flash split and
the DSP layout trade in flash_split.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .flash_split import layout_trade, split_flash

SCHEMA = "fitml.fit/1"


@dataclass(frozen=True)
class Item:
    """One consumer of a region's bytes (the arena, the stack, the weights of op 12, ...)."""
    what: str
    bytes: int
    item: str = ""   # stable key: arena, static, stack, reserve, code, data_init, params,
    #                  weights, spilled_weights; weights:<symbol> for one weight array


@dataclass(frozen=True)
class RegionUse:
    name: str
    kind: str                      # "ram" or "flash"
    base: int
    capacity: int
    contents: tuple[Item, ...] = ()
    detail: tuple[Item, ...] = ()  # finer-grained consumers, to name the largest on overflow

    @property
    def used(self) -> int:
        return sum(i.bytes for i in self.contents)

    @property
    def headroom(self) -> int:
        return self.capacity - self.used

    def largest(self, n: int = 3) -> list[Item]:
        return sorted(self.detail or self.contents, key=lambda i: -i.bytes)[:n]


@dataclass(frozen=True)
class OpUse:
    index: int
    kind: str
    output: str
    live_bytes: int                # bytes of every plan buffer live at this step, scratch incl.
    scratch_bytes: int
    weight_bytes: int              # weight and parameter arrays this op brings, as emitted
    macs: int


@dataclass(frozen=True)
class Moved:
    """Something placed outside its main region: a weight array spilled to another flash
    region, or an activation buffer planned in a slower RAM bank."""
    what: str
    bytes: int
    src: str
    dst: str
    kind: str = "weights"          # "weights" or "activations"


@dataclass(frozen=True)
class Measurement:
    """What the built ELF and one QEMU run measured (None: not measured, `note` says why)."""
    code_bytes: int | None = None
    static_ram_bytes: int | None = None
    data_init_bytes: int | None = None
    stack_bytes: int | None = None
    instructions: int | None = None
    method: str = ""
    note: str | None = None
    link: str | None = None        # the board-sized link: "ok" or the linker's overflow line
    elf: str | None = None
    harness_elf: str | None = None


@dataclass(frozen=True)
class FitReport:
    target: str
    core: str
    model: str
    regions: tuple[RegionUse, ...]
    ops: tuple[OpUse, ...]
    activations_peak_bytes: int    # the planned arena
    weights_bytes: int             # weights + per-channel parameter arrays, aligned as emitted
    params_bytes: int              # the parameter-array part of weights_bytes
    measurement: Measurement
    reserve_ram_bytes: int = 0
    overrides: dict = field(default_factory=dict)
    moved: tuple[Moved, ...] = ()
    partition: dict | None = None  # patch-based partitioning (fit.fit_partitioned), if tried
    memory_plan: dict | None = None  # the plan chosen for the board: {plan, why} (auto)
    plain_layouts: tuple[dict, ...] = ()   # ops whose DSP weight layout was left out for flash
    layouts: tuple[dict, ...] = ()   # every op that can carry one: bytes, est. gain, kept
    # what the board-sized build links beyond the table: activation bytes planned per RAM bank
    # over the room its layout leaves (the stack and heap as declared, not as measured)
    bank_overflows: tuple[tuple[str, int, int], ...] = ()   # (bank, planned, room)
    ram_reservation: int = 0       # declared stack + heap the build links in the main RAM

    @property
    def fits(self) -> bool:
        """Every region holds its contents, and the board-sized build links (as far as known:
        the plan within its banks' room, the measuring build's link)."""
        return (all(r.used <= r.capacity for r in self.regions) and not self.bank_overflows
                and self.measurement.link in (None, "ok"))
    code_bytes = property(lambda self: self.measurement.code_bytes)
    stack_bytes = property(lambda self: self.measurement.stack_bytes)
    macs = property(lambda self: sum(o.macs for o in self.ops))
    live_peak_bytes = property(lambda self: max((o.live_bytes for o in self.ops), default=0))

    @property
    def flash_split(self) -> dict:
        """The model's flash by kind: code (measured; None if not), int8 weights with their
        biases, the pre-widened DSP layouts' extra bytes, per-channel parameters."""
        return split_flash(self.measurement.code_bytes, self.weights_bytes, self.params_bytes,
                           self.layouts)

    @property
    def peak_op(self) -> int | None:
        return max(self.ops, key=lambda o: o.live_bytes).index if self.ops else None

    def regions_flash_name(self) -> str:
        return next((r.name for r in self.regions if r.kind == "flash"), "flash")

    def region(self, name: str) -> RegionUse:
        return next(r for r in self.regions if r.name == name)

    @property
    def overflows(self) -> list[tuple[RegionUse, int]]:
        return [(r, -r.headroom) for r in self.regions if r.headroom < 0]

    def verdict(self) -> str:
        """One line; on overflow it names each region, the overflow and the largest consumers."""
        if self.fits:
            used = [r for r in self.regions if r.used]
            tight = max(used, key=lambda r: r.used / r.capacity) if used else None
            most = f" (tightest: {tight.name} {tight.used / tight.capacity:.1%} used)" \
                if tight else ""
            return f"fits {self.target}{self._thanks()}{most}{self._unmeasured()}"
        parts = [f"region '{r.name}' overflows by {over:,} B ({r.used:,} of {r.capacity:,} B); "
                 f"largest consumers: " + ", ".join(f"{i.what} {i.bytes:,} B"
                                                    for i in r.largest())
                 for r, over in self.overflows]
        return f"does not fit {self.target}: " + "; ".join(parts + self._build_parts()) \
            + self._unmeasured()

    def _build_parts(self) -> list[str]:
        """Why the board-sized build fails where the table's regions hold their contents."""
        if any(r.headroom < 0 for r in self.regions):
            return []
        banks = [f"the plan puts {planned:,} B of activations in {name}, which has {room:,} B "
                 f"for them" for name, planned, room in self.bank_overflows]
        why = (f" (the build reserves the declared stack + heap, "
               f"{self.ram_reservation:,} B, in the main RAM; the table counts the stack "
               f"measured)") if self.bank_overflows else ""
        link = self.measurement.link
        return (banks[:1] and ["; ".join(banks) + why]) + (
            [f"the board-sized build does not link: {link}"] if link not in (None, "ok") else [])

    def _thanks(self) -> str:
        p, m = self.partition, self.memory_plan
        if m and m.get("plan") == "small":
            return f" with the small-arena plan ({m['why']})"
        if not p or not p.get("applied"):
            return ""
        ram = next(r for r in self.regions if r.kind == "ram")
        return (f" thanks to patch-based partitioning (activations {p['peak_before_bytes']:,}"
                f" -> {p['peak_after_bytes']:,} B, MACs +{100 * p['mac_overhead']:.1f}%; "
                f"{ram.headroom:,} B of {ram.name} to spare)")

    def _unmeasured(self) -> str:
        missing = [k for k in ("code", "stack") if getattr(self, f"{k}_bytes") is None]
        note = self.measurement.note       # why (a build's first error line, QEMU's fault)
        why = f": {note}" if note and note != "measurement switched off" else ""
        return f" [{' and '.join(missing)} not measured{why}]" if missing else ""

    def to_dict(self) -> dict:
        m = self.measurement
        return {
            "schema": SCHEMA, "fits": self.fits, "target": self.target, "core": self.core,
            "model": self.model,
            "regions": [{"name": r.name, "kind": r.kind, "base": r.base, "used": r.used,
                         "capacity": r.capacity, "headroom": r.headroom,
                         "contents": [_item(i) for i in r.contents]} for r in self.regions],
            "activations_peak_bytes": self.activations_peak_bytes,
            "live_peak_bytes": self.live_peak_bytes, "peak_op": self.peak_op,
            "weights_bytes": self.weights_bytes, "params_bytes": self.params_bytes,
            "flash_split": self.flash_split,
            "code_bytes": m.code_bytes, "stack_bytes": m.stack_bytes,
            "static_ram_bytes": m.static_ram_bytes, "reserve_ram_bytes": self.reserve_ram_bytes,
            "macs": self.macs,
            "measured": {"code": m.code_bytes is not None, "stack": m.stack_bytes is not None,
                         "method": m.method, "note": m.note, "link": m.link,
                         "instructions": m.instructions},
            "overflows": [{"region": r.name, "overflow_bytes": over,
                           "largest": [_item(i) for i in r.largest()]}
                          for r, over in self.overflows],
            "moved": [{"what": x.what, "bytes": x.bytes, "from": x.src, "to": x.dst,
                       "kind": x.kind} for x in self.moved],
            "overrides": dict(self.overrides),
            "bank_overflows": [{"bank": n, "planned_bytes": p, "room_bytes": r}
                               for n, p, r in self.bank_overflows],
            "ops": [{"index": o.index, "kind": o.kind, "output": o.output,
                     "live_bytes": o.live_bytes, "scratch_bytes": o.scratch_bytes,
                     "weight_bytes": o.weight_bytes, "macs": o.macs} for o in self.ops],
            "partition": self.partition,
            "memory_plan": self.memory_plan,
            "dsp_layouts_left_out": list(self.plain_layouts),
            "dsp_layouts": layout_trade(self.layouts),
            "verdict": self.verdict(),
        }


def _item(i: Item) -> dict:
    return {"item": i.item, "what": i.what, "bytes": i.bytes}


def to_json(report: FitReport) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def activation_budget(report: FitReport) -> int:
    """Bytes left for activations once everything else is in: in the main RAM region, plus the
    whole of every other RAM bank the plan put activations in."""
    main = next(r for r in report.regions if r.kind == "ram")
    banks = [r for r in report.regions if r.kind == "ram" and (r is main or any(
        i.item == "arena" for i in r.contents))]
    return sum(r.capacity - sum(i.bytes for i in r.contents if i.item != "arena")
               for r in banks)
