"""What `fitml fit` shows: the candidates table, what changed per layer, a Pareto plot (SVG)
of flash against loss, and the same as JSON (schema "fitml.fit-search/1")."""
from __future__ import annotations

import math
from html import escape

from ..ir import Graph
from ..report.flash_split import layout_trade
from ..util.text import printable
from .candidates import WEIGHTED
from .ranking import Candidate, SearchResult

SCHEMA = "fitml.fit-search/1"


def _pct(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.2f}%"


def _db(x: float) -> str:
    return "-" if math.isnan(x) else ("inf" if math.isinf(x) else f"{x:.1f}")


def table(result: SearchResult) -> str:
    """One row per candidate tried; `*` marks the chosen one."""
    metric = "top-1 acc" if result.metric == "accuracy" else "agreement"
    width = max([len(printable(c.name)) for c in result.candidates] + [9])
    head = (f"{'':1} {'#':>2}  {'candidate':<{width}} {'flash B':>9} {'RAM B':>8} {'MACs':>11} "
            f"{metric:>9} {'drop pt':>7} {'SNR dB':>6}  fits")
    lines = [head]
    for i, c in enumerate(result.candidates):
        mark = "*" if c is result.chosen else ""
        top1 = c.accuracy if c.accuracy is not None else c.agreement
        lines.append(f"{mark:1} {i:>2}  {printable(c.name):<{width}} {c.flash:>9,} {c.ram:>8,} "
                     f"{c.macs:>11,} {_pct(top1):>9} {c.drop:>7.2f} {_db(c.snr_db):>6}  "
                     f"{'yes' if c.fits else 'no'}{' (measured)' if c.measured else ''}")
    return "\n".join(lines)


def _layer_bytes(graph: Graph, op) -> int:
    return sum(graph.tensors[n].nbytes for n in op.inputs[1:3] if n)


def layer_changes(float_graph: Graph, cand: Candidate) -> list[dict]:
    """Every weighted layer: channels, weight precision, activation precision and filter+bias
    bytes, int8 vs now."""
    g = cand.graph
    down = {op.inputs[0]: op.outputs[0] for op in g.ops if op.kind == "QUANTIZE"}
    now = {}                              # a 16x8 op with an int8 output writes a copy first
    for op in g.ops:
        if op.kind in WEIGHTED:
            out = op.outputs[0]
            now[out if out in float_graph.tensors else down.get(out, out)] = op
    rows = []
    for op in float_graph.ops:
        if op.kind not in WEIGHTED:
            continue
        name = op.outputs[0]
        w, b = float_graph.tensors[op.inputs[1]], op.inputs[2] if len(op.inputs) > 2 else ""
        before = w.size + (4 * float_graph.tensors[b].size if b else 0)
        q = now.get(name)
        after_ch = cand.graph.tensors[name].shape[-1] if name in cand.graph.tensors else 0
        rows.append({"layer": name, "kind": op.kind,
                     "channels": [float_graph.tensors[name].shape[-1], after_ch],
                     "inputs": [float_graph.tensors[op.inputs[0]].shape[-1],
                                cand.graph.tensors[q.inputs[0]].shape[-1] if q else 0],
                     "precision": cand.graph.tensors[q.inputs[1]].dtype if q else "-",
                     "activations": ["int8", "int16" if name in cand.config.int16 else "int8"],
                     "bytes": [before, _layer_bytes(cand.graph, q) if q else 0]})
    return rows


def changes_text(rows: list[dict]) -> str:
    lines = [f"{'layer':<40} {'kind':<17} {'out ch':>9} {'in ch':>9} {'weights':>7} "
             f"{'bytes (int8 -> now)':>21}  act"]
    for r in rows:
        ch, ic, (b0, b1) = r["channels"], r["inputs"], r["bytes"]
        a0, a1 = r.get("activations", ("int8", "int8"))
        lines.append(f"{printable(r['layer'][-40:]):<40} {r['kind']:<17} {ch[0]:>4}>{ch[1]:<4} "
                     f"{ic[0]:>4}>{ic[1]:<4} {r['precision']:>7} {b0:>9,} -> {b1:<9,}  "
                     + (a0 if a0 == a1 else f"act {a0} -> {a1}"))
    return "\n".join(lines)


def to_dict(result: SearchResult) -> dict:
    chosen = result.chosen
    return {"schema": SCHEMA, "target": result.target, "metric": result.metric,
            "samples": result.samples, "float_accuracy": result.float_accuracy,
            "budget": result.budget, "ok": result.ok, "reason": result.reason,
            "chosen": None if chosen is None else result.candidates.index(chosen),
            "candidates": [_cand(c) for c in result.candidates],
            "changes": [] if chosen is None else layer_changes(result.float_graph, chosen)}


def _num(x):
    return None if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))) \
        else x


def _cand(c: Candidate) -> dict:
    return {"name": c.name, "precision": dict(c.config.precision), "prune": dict(c.config.prune),
            "int16": list(c.config.int16),
            "finetuned": c.finetuned, "flash_bytes": c.flash, "ram_bytes": c.ram,
            "weights_bytes": c.fit.weights_bytes, "macs": c.macs, "fits": c.fits,
            "measured": c.measured, "top1_agreement": _num(c.agreement),
            "accuracy": _num(c.accuracy), "drop_points": _num(c.drop),
            "output_snr_db": _num(c.snr_db), "dsp_layouts": layout_trade(c.fit.layouts)}


def pareto(cands: list[Candidate]) -> list[Candidate]:
    """Candidates no other beats on both flash and loss, by flash."""
    front, best = [], math.inf
    for c in sorted(cands, key=lambda c: (c.flash, c.drop)):
        if c.drop < best:
            front.append(c)
            best = c.drop
    return front


def svg(result: SearchResult, width: int = 720, height: int = 420) -> str:
    """Flash bytes (x) against top-1 points lost (y); the Pareto front, the budget, the choice."""
    cands = [c for c in result.candidates if not math.isnan(c.drop)]
    budget = result.budget.get("flash", 0)
    xs = [c.flash for c in cands] + [budget]
    x0, x1 = 0.0, max(xs) * 1.08 or 1.0
    y1 = max([c.drop for c in cands] + [1.0]) * 1.15
    y0 = min([c.drop for c in cands] + [0.0])
    left, right, top, bottom = 70, 20, 30, 50
    px = lambda x: left + (x - x0) / (x1 - x0) * (width - left - right)     # noqa: E731
    py = lambda y: top + (y1 - y) / (y1 - y0) * (height - top - bottom)     # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="13">fitml fit: {escape(result.target)} - '
           f'flash vs top-1 {escape(result.metric)} lost</text>',
           f'<line x1="{left}" y1="{py(y0)}" x2="{width - right}" y2="{py(y0)}" stroke="#333"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{py(y0)}" stroke="#333"/>',
           f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">flash bytes</text>',
           f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" '
           f'text-anchor="middle">points lost</text>']
    for k in range(5):
        xv, yv = x0 + (x1 - x0) * k / 4, y0 + (y1 - y0) * k / 4
        out.append(f'<text x="{px(xv):.1f}" y="{py(y0) + 15:.1f}" text-anchor="middle">'
                   f'{xv / 1024:.0f}K</text>')
        out.append(f'<text x="{left - 6}" y="{py(yv) + 4:.1f}" text-anchor="end">{yv:.1f}</text>')
    if budget:
        out.append(f'<line x1="{px(budget):.1f}" y1="{top}" x2="{px(budget):.1f}" '
                   f'y2="{py(y0):.1f}" stroke="#c00" stroke-dasharray="5,4"/>')
        out.append(f'<text x="{px(budget) + 4:.1f}" y="{top + 12}" fill="#c00">budget '
                   f'{budget:,} B</text>')
    front = pareto(cands)
    if len(front) > 1:
        pts = " ".join(f"{px(c.flash):.1f},{py(c.drop):.1f}" for c in front)
        out.append(f'<polyline points="{pts}" fill="none" stroke="#36c" stroke-width="1.5"/>')
    for c in cands:
        color = "#090" if c is result.chosen else ("#36c" if c.fits else "#999")
        r = 6 if c is result.chosen else 4
        out.append(f'<circle cx="{px(c.flash):.1f}" cy="{py(c.drop):.1f}" r="{r}" '
                   f'fill="{color}"><title>{escape(c.name)}: {c.flash:,} B, '
                   f'{c.drop:.2f} points</title></circle>')
    if result.chosen is not None:
        c = result.chosen
        out.append(f'<text x="{px(c.flash) + 8:.1f}" y="{py(c.drop) - 8:.1f}" fill="#090">'
                   f'chosen: {escape(c.name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
