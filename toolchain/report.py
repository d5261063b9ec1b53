"""The fit report: what a model needs from a target, region by region, and four renderings.

`FitReport` is plain data (computed by `toolchain.fit.fit`); it renders as an aligned terminal
table, as JSON (schema "fitml.fit/1", documented in docs/report-schema.md), as Markdown for CI
job summaries, and as an SVG memory timeline (live activation bytes per op against the budget).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from html import escape

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
    plain_layouts: tuple[dict, ...] = ()   # ops whose DSP weight layout was left out for flash

    fits = property(lambda self: all(r.used <= r.capacity for r in self.regions))
    code_bytes = property(lambda self: self.measurement.code_bytes)
    stack_bytes = property(lambda self: self.measurement.stack_bytes)
    macs = property(lambda self: sum(o.macs for o in self.ops))
    live_peak_bytes = property(lambda self: max((o.live_bytes for o in self.ops), default=0))

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
        return f"does not fit {self.target}: " + "; ".join(parts) + self._unmeasured()

    def _thanks(self) -> str:
        p = self.partition
        if not p or not p.get("applied"):
            return ""
        ram = next(r for r in self.regions if r.kind == "ram")
        return (f" thanks to patch-based partitioning (activations {p['peak_before_bytes']:,}"
                f" -> {p['peak_after_bytes']:,} B, MACs +{100 * p['mac_overhead']:.1f}%; "
                f"{ram.headroom:,} B of {ram.name} to spare)")

    def _unmeasured(self) -> str:
        missing = [k for k in ("code", "stack") if getattr(self, f"{k}_bytes") is None]
        return f" [{' and '.join(missing)} not measured]" if missing else ""

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
            "ops": [{"index": o.index, "kind": o.kind, "output": o.output,
                     "live_bytes": o.live_bytes, "scratch_bytes": o.scratch_bytes,
                     "weight_bytes": o.weight_bytes, "macs": o.macs} for o in self.ops],
            "partition": self.partition,
            "dsp_layouts_left_out": list(self.plain_layouts),
            "verdict": self.verdict(),
        }


def _item(i: Item) -> dict:
    return {"item": i.item, "what": i.what, "bytes": i.bytes}


def _b(v) -> str:
    return "not measured" if v is None else f"{v:,} B"


def _moved(report: FitReport) -> list[str]:
    """One line per kind and destination region: how many buffers or arrays moved, and which."""
    lines = []
    label = {"weights": "weight arrays", "activations": "activation buffers"}
    for kind, dst in dict.fromkeys((x.kind, x.dst) for x in report.moved):
        xs = [x for x in report.moved if (x.kind, x.dst) == (kind, dst)]
        names = ", ".join(x.what for x in xs[:4]) + (f", ... ({len(xs) - 4} more)"
                                                      if len(xs) > 4 else "")
        lines.append(f"moved {len(xs)} {label.get(kind, kind)} ({sum(x.bytes for x in xs):,} B)"
                     f" from {xs[0].src} to {dst}: {names}")
    return lines


def to_json(report: FitReport) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[c]) for r in [header] + rows) for c in range(len(header))]
    fmt = lambda r: "  ".join(v.rjust(w) if c in right else v.ljust(w)  # noqa: E731
                              for c, (v, w) in enumerate(zip(r, widths))).rstrip()
    return [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]


def _region_rows(report: FitReport) -> list[list[str]]:
    return [[r.name, r.kind, f"{r.capacity:,}", f"{r.used:,}", f"{r.headroom:,}",
             f"{r.used / r.capacity:.1%}",
             ", ".join(f"{i.what} {i.bytes:,}" for i in r.contents) or "-"]
            for r in report.regions]


def _totals(report: FitReport) -> list[str]:
    m = report.measurement
    return [f"activations peak (arena) {report.activations_peak_bytes:,} B at op "
            f"{report.peak_op} (live lower bound {report.live_peak_bytes:,} B)",
            f"weights {report.weights_bytes:,} B (incl. {report.params_bytes:,} B per-channel "
            f"parameters); MACs {report.macs:,}",
            f"code {_b(m.code_bytes)}, stack {_b(m.stack_bytes)}, static RAM "
            f"{_b(m.static_ram_bytes)}" + (f" ({m.note})" if m.note else
                                           f" (measured: {m.method})")] + (
        [f"board-sized harness link: {m.link} (the QEMU harness's I/O buffers and stack "
         f"reservation count there too); measured with the machine's full memory instead"]
        if m.link not in (None, "ok") else []) + _partition_lines(report) + _plain_lines(report)


def _plain_lines(report: FitReport) -> list[str]:
    """The layers that run their int8 path because their DSP layout would not fit the flash."""
    ops = report.plain_layouts
    if not ops:
        return []
    names = ", ".join(f"op {o['op']} {o['kind']}" for o in ops)
    return [f"DSP weight layouts left out to fit {report.regions_flash_name()}: {names} "
            f"(they run their int8 path: bit-exact, slower)"]


def _partition_lines(report: FitReport) -> list[str]:
    """Peak before/after and the MAC overhead of patch-based partitioning, when tried."""
    p = report.partition
    if not p:
        return []
    if not p.get("applied"):
        return [f"partitioning: {p.get('reason', 'not applied')}"]
    stages = ", ".join(f"ops {s['ops'][0]}..{s['ops'][1]} in {s['grid'][0]}x{s['grid'][1]} "
                       f"patches" + (" (output over input)" if s["in_place"] else "")
                       for s in p["stages"])
    return [f"partitioned ({p['mode']}): {stages}; activations peak {p['peak_before_bytes']:,} B"
            f" layer by layer -> {p['peak_after_bytes']:,} B; MACs {p['macs_before']:,} -> "
            f"{p['macs_after']:,} (+{100 * p['mac_overhead']:.2f}%)"]


def render_text(report: FitReport, ops: bool = True) -> str:
    """Aligned terminal tables: regions, then ops; totals and a verdict line last."""
    lines = [f"fitml fit report: {report.model or 'model'} on {report.target} ({report.core})", ""]
    lines += _table(["region", "kind", "capacity", "used", "headroom", "use", "contents"],
                    _region_rows(report), {2, 3, 4, 5})
    if ops:
        peak = report.peak_op
        rows = [[("*" if o.index == peak else "") + str(o.index), o.kind, f"{o.live_bytes:,}",
                 f"{o.scratch_bytes:,}", f"{o.weight_bytes:,}", f"{o.macs:,}"]
                for o in report.ops]
        lines += [""] + _table(["#", "op", "live B", "scratch B", "weights B", "MACs"], rows,
                               {0, 2, 3, 4, 5})
    lines += [""] + _totals(report)
    lines += _moved(report)
    lines.append("VERDICT: " + report.verdict())
    return "\n".join(lines) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(report: FitReport) -> str:
    """GitHub-flavoured Markdown: a verdict heading, the region table, ops folded away."""
    mark = "✅" if report.fits else "❌"
    out = [f"### {mark} fitml: {_md_escape(report.model or 'model')} on `{report.target}`", "",
           f"**{_md_escape(report.verdict())}**", "",
           "| region | kind | capacity (B) | used (B) | headroom (B) | use | contents |",
           "|---|---|---:|---:|---:|---:|---|"]
    out += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in _region_rows(report)]
    out += [""] + [f"- {_md_escape(t)}" for t in _totals(report)]
    out += [f"- {_md_escape(t)}" for t in _moved(report)]
    out += ["", "<details><summary>per-op memory and MACs</summary>", "",
            "| # | op | live (B) | scratch (B) | weights (B) | MACs |",
            "|---:|---|---:|---:|---:|---:|"]
    out += [f"| {o.index} | {o.kind} | {o.live_bytes:,} | {o.scratch_bytes:,} | "
            f"{o.weight_bytes:,} | {o.macs:,} |" for o in report.ops]
    return "\n".join(out + ["", "</details>", ""])


def activation_budget(report: FitReport) -> int:
    """Bytes left for activations once everything else is in: in the main RAM region, plus the
    whole of every other RAM bank the plan put activations in."""
    main = next(r for r in report.regions if r.kind == "ram")
    banks = [r for r in report.regions if r.kind == "ram" and (r is main or any(
        i.item == "arena" for i in r.contents))]
    return sum(r.capacity - sum(i.bytes for i in r.contents if i.item != "arena")
               for r in banks)


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of 1024-friendly ten: the grid step just above `raw` bytes."""
    unit = 1024.0 if raw >= 512 else 1.0
    exp = 10 ** math.floor(math.log10(max(raw / unit, 1e-9)))
    return next(m * exp for m in (1, 2, 5, 10) if m * exp * unit >= raw) * unit


def render_svg(report: FitReport, width: int = 900, height: int = 380) -> str:
    """Memory timeline: live activation bytes per op (bars, the peak op highlighted), the
    planned arena (dashed) and the activation budget of the main RAM region (red line)."""
    left, right, top, bottom = 78, 20, 40, 60
    pw, ph = width - left - right, height - top - bottom
    budget, arena = activation_budget(report), report.activations_peak_bytes
    top_value = max([budget, arena, 1] + [o.live_bytes for o in report.ops]) * 1.05
    tick = _nice_step(top_value / 5)
    ymax = math.ceil(top_value / tick) * tick
    y = lambda v: top + ph - ph * v / ymax  # noqa: E731
    n = max(len(report.ops), 1)
    bw = pw / n
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{left}" y="22" font-size="14">{escape(report.model or "model")} on '
         f'{escape(report.target)}: live activation bytes per op</text>']
    for k in range(round(ymax / tick) + 1):                      # y grid and labels (KB)
        v = k * tick
        s.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                 f'stroke="#ddd"/><text x="{left - 6}" y="{y(v) + 4:.1f}" '
                 f'text-anchor="end">{v / 1024:,.4g} KB</text>')
    step = max(1, n // 25)
    for o in report.ops:
        x, h = left + o.index * bw, ph * o.live_bytes / ymax
        color = "#e8590c" if o.index == report.peak_op else "#4c6ef5"
        s.append(f'<rect x="{x + bw * 0.1:.1f}" y="{top + ph - h:.1f}" width="{bw * 0.8:.1f}" '
                 f'height="{h:.1f}" fill="{color}"><title>op {o.index} {escape(o.kind)}: '
                 f'{o.live_bytes:,} B live</title></rect>')
        if o.index % step == 0:
            s.append(f'<text x="{x + bw / 2:.1f}" y="{top + ph + 14}" '
                     f'text-anchor="middle">{o.index}</text>')
    for v, color, dash, label, tx, anchor in (
            (budget, "#c92a2a", "", f"RAM budget {budget:,} B", left + pw - 4, "end"),
            (arena, "#555", ' stroke-dasharray="6,4"', f"arena {arena:,} B", left + 4, "start")):
        s.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                 f'stroke="{color}" stroke-width="2"{dash}/><text x="{tx}" y="{y(v) - 5:.1f}" '
                 f'text-anchor="{anchor}" fill="{color}">{label}</text>')
    s += [f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="#333"/>',
          f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#333"/>',
          f'<text x="{left + pw / 2}" y="{height - 22}" text-anchor="middle">op (schedule '
          f'order); peak op {report.peak_op} highlighted</text>', "</svg>"]
    return "\n".join(s) + "\n"


def render_png(report: FitReport, path) -> None:
    """The same timeline as a PNG through matplotlib (an optional extra: `fitml[plot]`)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(9, 3.8), dpi=100)
    xs = [o.index for o in report.ops]
    ax.bar(xs, [o.live_bytes for o in report.ops],
           color=["#e8590c" if i == report.peak_op else "#4c6ef5" for i in xs])
    ax.axhline(activation_budget(report), color="#c92a2a", label="RAM budget")
    ax.axhline(report.activations_peak_bytes, color="#555", ls="--", label="arena")
    ax.set(xlabel="op", ylabel="live activation bytes",
           title=f"{report.model or 'model'} on {report.target}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def write_plot(report: FitReport, path) -> None:
    """`.png` through matplotlib, anything else as SVG written by hand."""
    from pathlib import Path
    from .util.atomic import atomic_path
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".png":
            render_png(report, tmp)
        else:
            Path(tmp).write_text(render_svg(report))
