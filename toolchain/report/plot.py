"""The fit report's memory timeline: live activation bytes per op against the RAM budget.

SVG written by hand (no dependency), or PNG through matplotlib (the optional `fitml[plot]`).
"""
from __future__ import annotations

import math
from html import escape
from pathlib import Path

from ..util.atomic import atomic_path
from .fit_report import FitReport, activation_budget


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
    import matplotlib  # lazy: matplotlib is optional (fitml[plot])
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib is optional (fitml[plot])
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
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".png":
            render_png(report, tmp)
        else:
            Path(tmp).write_text(render_svg(report))
