"""The fit report as text: an aligned terminal table, and Markdown for CI job summaries.

Both show the regions (capacity, use, contents), the totals, what moved out of the main
regions and the verdict line; the terminal table also lists every op (the peak one starred).
"""
from __future__ import annotations

from .fit_report import FitReport
from ..util.text import printable


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
            _flash_line(report) + f"; MACs {report.macs:,}",
            f"code {_b(m.code_bytes)}, stack {_b(m.stack_bytes)}, static RAM "
            f"{_b(m.static_ram_bytes)}" + (f" ({m.note})" if m.note else
                                           f" (measured: {m.method})")] + (
        [f"board-sized build: {m.link} (the linker reserves the declared stack + heap, "
         f"{report.ram_reservation:,} B, in the main RAM where the table counts the stack "
         f"measured; the QEMU harness's own buffers are linked beside the board's RAM, not in "
         f"it); so it does not fit; measured with the machine's full memory instead"]
        if m.link not in (None, "ok") else []) + _partition_lines(report) + _plain_lines(report) \
        + _trade_line(report)


def _flash_line(report: FitReport) -> str:
    """The model's flash split: code, int8 weights, pre-widened layouts, parameters."""
    f = report.flash_split
    return (f"flash: code {_b(f['code'])}, int8 weights {f['int8_weights']:,} B, pre-widened "
            f"DSP layouts {f['layouts']:,} B, per-channel parameters {f['params']:,} B "
            f"(weights {report.weights_bytes:,} B in all)")


def _plain_lines(report: FitReport) -> list[str]:
    """The layers that run their int8 path because their DSP layout would not fit the flash."""
    ops = report.plain_layouts
    if not ops:
        return []
    names = ", ".join(f"op {o['op']} {o['kind']}" for o in ops)
    return [f"DSP weight layouts left out to fit {report.regions_flash_name()}: {names} "
            f"(they run their int8 path: bit-exact, slower)"]


def _trade_line(report: FitReport) -> list[str]:
    """One line: the DSP layouts' flash and estimated instructions saved, kept and left out."""
    xs = report.layouts
    if not xs:
        return []
    kept = [x for x in xs if x["kept"]]
    plain = [x for x in xs if not x["kept"]]
    line = (f"DSP weight layouts: {len(kept)} of {len(xs)} kept, {sum(x['bytes'] for x in kept):,}"
            f" B of flash for ~{sum(x['insns_saved_est'] for x in kept):,} fewer instructions "
            f"(estimated)")
    if plain:
        line += (f"; {len(plain)} layers on their int8 path save {sum(x['bytes'] for x in plain):,}"
                 f" B for ~{sum(x['insns_saved_est'] for x in plain):,} more instructions")
    return [line]


def _trade_rows(report: FitReport) -> list[list[str]]:
    """Per layer that can carry a layout: its flash, estimated gain, gain per byte, path."""
    return [[str(x["op"]), x["kind"], f"{x['bytes']:,}", f"{x['insns_saved_est']:,}",
             f"{x['insns_saved_est'] / max(x['bytes'], 1):.2f}",
             "layout" if x["kept"] else "int8"] for x in report.layouts]


TRADE_HEADER = ["#", "op", "layout B", "insns saved (est.)", "saved/B", "runs"]


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
    lines = [f"fitml fit report: {printable(report.model or 'model')} on {report.target} "
             f"({report.core})", ""]
    lines += _table(["region", "kind", "capacity", "used", "headroom", "use", "contents"],
                    _region_rows(report), {2, 3, 4, 5})
    if ops:
        peak = report.peak_op
        rows = [[("*" if o.index == peak else "") + str(o.index), o.kind, f"{o.live_bytes:,}",
                 f"{o.scratch_bytes:,}", f"{o.weight_bytes:,}", f"{o.macs:,}"]
                for o in report.ops]
        lines += [""] + _table(["#", "op", "live B", "scratch B", "weights B", "MACs"], rows,
                               {0, 2, 3, 4, 5})
    if report.layouts and (ops or report.plain_layouts):
        lines += ["", "DSP weight layouts, the most instructions saved per byte kept first "
                  "(gains estimated from the measured cost table):"]
        lines += _table(TRADE_HEADER, _trade_rows(report), {0, 2, 3, 4})
    lines += [""] + _totals(report)
    lines += _moved(report)
    lines.append("VERDICT: " + report.verdict())
    return "\n".join(lines) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(report: FitReport) -> str:
    """GitHub-flavoured Markdown: a verdict heading, the region table, ops folded away."""
    mark = "✅" if report.fits else "❌"
    out = [f"### {mark} fitml: {_md_escape(printable(report.model or 'model'))} on "
           f"`{report.target}`", "",
           f"**{_md_escape(report.verdict())}**", "",
           "| region | kind | capacity (B) | used (B) | headroom (B) | use | contents |",
           "|---|---|---:|---:|---:|---:|---|"]
    out += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in _region_rows(report)]
    out += [""] + [f"- {_md_escape(t)}" for t in _totals(report)]
    out += [f"- {_md_escape(t)}" for t in _moved(report)]
    if report.layouts:
        out += ["", "<details><summary>DSP weight layouts: flash spent and instructions saved "
                "(estimated) per layer</summary>", "",
                "| " + " | ".join(TRADE_HEADER) + " |", "|---:|---|---:|---:|---:|---|"]
        out += ["| " + " | ".join(row) + " |" for row in _trade_rows(report)]
        out += ["", "</details>"]
    out += ["", "<details><summary>per-op memory and MACs</summary>", "",
            "| # | op | live (B) | scratch (B) | weights (B) | MACs |",
            "|---:|---|---:|---:|---:|---:|"]
    out += [f"| {o.index} | {o.kind} | {o.live_bytes:,} | {o.scratch_bytes:,} | "
            f"{o.weight_bytes:,} | {o.macs:,} |" for o in report.ops]
    return "\n".join(out + ["", "</details>", ""])
