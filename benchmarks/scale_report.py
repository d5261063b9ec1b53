"""Tables and growth exponents for benchmarks/scale.py's measurements (markdown)."""
from __future__ import annotations

import math
import statistics

import numpy as np

ORDER = ["compile", "check", "check_warm", "reference", "host_build", "host_run", "qemu_build",
         "qemu_run", "tflm", "partition", "ptq", "fit"]
X_NAMES = {"weights": "int8 weight bytes", "ops": "op count", "float": "float weight bytes",
           "samples": "calibration samples", "fit": "int8 weight bytes"}


def steps_of(results: dict) -> dict[str, dict]:
    """Step name -> {cpu, wall, ...} over a model's stages (load steps left out)."""
    out = {}
    for stage, r in results.items():
        for name, step in r.get("steps", {}).items():
            if name == "load":
                continue
            out["check_warm" if stage == "check_warm" else name] = step
    return out


def peak_of(results: dict) -> tuple[float, str]:
    """(largest peak RSS over base in MB, the stage it was in)."""
    peaks = [(r.get("peak_over_base", 0) / 1e6, stage) for stage, r in results.items()
             if "steps" in r]
    return max(peaks, default=(0.0, ""))


def _cell(step: dict | None) -> str:
    if step is None:
        return "-"
    cell = f"{step['cpu']:.2f}"
    if step.get("ok") is False:
        cell += " WRONG"
    if step.get("error"):
        cell = "n/a"
    return cell


def ladder_table(key: str, rows: list[dict]) -> str:
    names = [n for n in ORDER if any(n in steps_of(r["results"]) for r in rows)]
    head = ["model", "weights MB", "ops", "MACs M", "file KB"] + [f"{n} CPU s" for n in names]
    head += ["peak MB (stage)", "peak / file"]
    lines = [f"### {key} (x = {X_NAMES.get(key, 'model')})", "",
             "| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for r in rows:
        steps = steps_of(r["results"])
        peak, where = peak_of(r["results"])
        label = r.get("name", r.get("size"))
        if key == "samples":
            label = f"{r['samples']} samples"
        cells = [str(label), _num(r.get("mb")), str(r.get("ops", "")),
                 _num(r.get("macs", 0) / 1e6 if r.get("macs") else None),
                 f"{r['file_bytes'] / 1e3:,.0f}"]
        cells += [_cell(steps.get(n)) for n in names]
        cells += [f"{peak:.0f} ({where})", f"{peak * 1e6 / r['file_bytes']:.1f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _num(v) -> str:
    if v is None:
        return ""
    return f"{v:,.2f}" if v < 10 else f"{v:,.0f}"


def slope(xs, ys) -> float | None:
    pts = [(x, y) for x, y in zip(xs, ys) if x and y and y > 0]
    if len(pts) < 2:
        return None
    lx, ly = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(lx, ly, 1)[0])


def exponents(rows: list[dict]) -> dict[str, tuple]:
    """Step -> (exponent over all points, over the upper half, points, over the last step
    alone) of CPU time (or peak memory) against x."""
    out = {}
    names = [n for n in ORDER if any(n in steps_of(r["results"]) for r in rows)]
    for name in names + ["peak memory"]:
        pts = []
        for r in sorted(rows, key=lambda r: r["x"]):
            if name == "peak memory":
                pts.append((r["x"], peak_of(r["results"])[0]))
                continue
            step = steps_of(r["results"]).get(name)
            if step is not None and not step.get("error"):
                pts.append((r["x"], step["cpu"]))
        if len(pts) < 2:
            continue
        upper = pts[(len(pts) - 1) // 2:]
        out[name] = (slope(*zip(*pts)), slope(*zip(*upper)) if len(upper) >= 2 else None,
                     len(pts), slope(*zip(*pts[-2:])))
    return out


def exponents_table(data: dict) -> str:
    lines = [("### growth exponents (log-log least-squares slope of CPU time against x; "
              "1.0 = linear)"), "",
             "| ladder | x | stage | exponent | upper half | last step | points |",
             "|---|---|---|---:|---:|---:|---:|"]
    for key in ("weights", "ops", "float", "samples", "fit"):
        if key not in data:
            continue
        for name, (all_, upper, n, last) in exponents(data[key]).items():
            lines.append(f"| {key} | {X_NAMES[key]} | {name} | {_exp(all_)} | {_exp(upper)} "
                         f"| {_exp(last)} "
                         f"| {n} |")
    return "\n".join(lines)


def _exp(v) -> str:
    return "-" if v is None or math.isnan(v) else f"{v:.2f}"


def mobilenet_table(runs: dict) -> str:
    lines = ["### float MobileNetV2-1.0 224 (3.5 M params, 300 M MACs), 32 calibration images",
             "", "| path | step | CPU s (median) | wall s (median) | runs |",
             "|---|---|---:|---:|---:|"]
    for how, label in (("fitml", "fitml: torch -> verified int8 C"),
                       ("tflite", "TFLite converter alone (Keras -> int8 .tflite)")):
        ok = [r for r in runs.get(how, []) if "steps" in r]
        if not ok:
            continue
        for step in ok[0]["steps"]:
            cpu = statistics.median(r["steps"][step]["cpu"] for r in ok)
            wall = statistics.median(r["steps"][step]["wall"] for r in ok)
            extra = " (bit-exact)" if ok[0]["steps"][step].get("ok") else ""
            lines.append(f"| {label} | {step}{extra} | {cpu:.2f} | {wall:.2f} | {len(ok)} |")
    return "\n".join(lines)


def readme_section(data: dict) -> str:
    """The README's "Scale" section, from the short profile (`scale.py --readme`): compile
    and check, cold and warm, of the shared models and the weights ladder; the ladder's growth
    exponents."""
    out = ["### Scale", "",
           (f"`benchmarks/scale.py --readme` (about a minute; CI reruns it) times `compile` and "
            f"`check` (empty build cache, then warm) in a fresh process each, for target "
            f"{data['target']}, on three shared models and on generated MobileNetV2-like "
            f"models (conv, depthwise, FC, residual ADDs; 44 ops) with growing int8 weights. "
            f"Figures are CPU seconds (user + sys, gcc and QEMU included; wall time on a shared "
            f"machine measures the neighbours, load at the start {data['load']:.0f}) and the "
            f"peak resident memory above the process's size after its imports. The full "
            f"ladders (0.1-16 MB, 10-500 ops, float weights, calibration samples, `fit`, verify "
            f"split into its steps, PyTorch MobileNetV2 beside TFLite's converter) are "
            f"`benchmarks/scale.py` without `--readme`."), "",
           "| model | file MB | ops | compile s | check (cold cache) s | check (warm cache) s "
           "| peak MB |", "|---|---:|---:|---:|---:|---:|---:|"]
    rows = [(r["size"], r) for r in data.get("shared", [])]
    rows += [(f"generated {r['size']} MB", r) for r in data.get("weights", [])]
    for label, r in rows:
        steps = steps_of(r["results"])
        cells = [label, f"{r['file_bytes'] / 1e6:.2f}", str(r.get("ops", "-"))]
        cells += [f"{steps[n]['cpu']:.2f} s" if n in steps else "-"
                  for n in ("compile", "check", "check_warm")]
        cells.append(f"{peak_of(r['results'])[0]:.0f} MB")
        out.append("| " + " | ".join(cells) + " |")
    exps = exponents(data.get("weights", []))
    if exps:
        out += ["", ("Growth of CPU time with the int8 weight bytes over that ladder "
                     "(log-log least-squares slope; 1.0 = linear):"), "",
                "| stage | exponent |", "|---|---:|"]
        names = {"check": "check (cold cache)", "check_warm": "check (warm cache)"}
        out += [f"| {names.get(n, n)} | {_exp(e[0])} |" for n, e in exps.items()]
    return "\n".join(out)
