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
    """The README's "Scale" section: MobileNetV2's stages, the growth exponents, PyTorch to
    verified C beside TFLite's converter."""
    mnv2 = next((r for r in data.get("shared", []) if r["size"] == "mobilenet_v2"), None)
    out = ["### Scale", "",
           (f"`benchmarks/scale.py` (`--quick` for a short run) times every stage in a fresh "
           f"process with an empty build cache on generated MobileNetV2-like models (conv, "
           f"depthwise, FC, residual ADDs; int8 weights 0.1-16 MB at 44 ops, 10-500 ops at "
           f"0.5 MB, float weights) and the shared models, target {data['target']}. Figures "
           f"are CPU seconds (user + sys, gcc and QEMU included) measured on a shared 2-core "
           f"machine (load {data['load']:.0f} at the start), and peak resident memory above "
           f"the process's size after its imports.")]
    if mnv2:
        steps = steps_of(mnv2["results"])
        names = [n for n in ORDER if n in steps]
        label = {"check": "check (cold cache)", "check_warm": "check (warm cache)",
                 "qemu_run": f"qemu_run ({steps['qemu_run'].get('instructions', 0) / 1e9:.2f} G "
                             "insns)" if "qemu_run" in steps else ""}
        out += ["", (f"MobileNetV2 int8 (the shared PyTorch-converted model, "
                    f"{mnv2['file_bytes'] / 1e6:.1f} MB .tflite, 300 M MACs):"), "",
                "| " + " | ".join(label.get(n, n) for n in names) + " |",
                "|" + "---:|" * len(names),
                "| " + " | ".join(f"{steps[n]['cpu']:.1f} s" for n in names) + " |"]
        peaks = {stage: r.get("peak_over_base", 0) / 1e6 for stage, r in
                 mnv2["results"].items() if "steps" in r}
        names = {"check": "check (cold)", "check_warm": "check (warm)"}
        out += ["", "Peak memory above the interpreter: " + ", ".join(
            f"{names.get(stage, stage)} {mb:.0f} MB" for stage, mb in peaks.items())
            + f" ({mnv2['file_bytes'] / 1e6:.1f} MB file)."]
    rows = {}
    for key, col in (("weights", 0), ("ops", 1), ("samples", 2), ("fit", 0), ("float", 3)):
        for name, (all_, upper, _, last) in exponents(data.get(key, [])).items():
            if key == "fit" and name != "fit":
                continue
            rows.setdefault(name, ["-"] * 4)[col] = f"{_exp(all_)} / {_exp(upper)} / {_exp(last)}"
    out += ["", ("Growth exponents of CPU time (log-log least-squares slope; over the whole "
                 "ladder / its upper half / its last step; 1.0 = linear):"), "",
            ("| stage | vs int8 weight bytes | vs op count | vs calibration samples | "
            "vs float weight bytes |"), "|---|---:|---:|---:|---:|"]
    out += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows.items()]
    runs = data.get("mobilenet", {})
    ok = {how: [r for r in runs.get(how, []) if "steps" in r] for how in ("fitml", "tflite")}
    if ok.get("fitml") and ok.get("tflite"):
        med = lambda how, k: statistics.median(  # noqa: E731
            r["steps"]["total"][k] for r in ok[how])
        out += ["", (f"Float MobileNetV2-1.0 224 (PyTorch, random weights) to verified int8 C "
                    f"(torch.export, PTQ on 32 images, C for {data['target']}, host C bit-exact "
                    f"to the reference): {med('fitml', 'cpu'):.1f} s CPU "
                    f"({med('fitml', 'wall'):.1f} s wall); TFLite's converter alone on the same "
                    f"network in Keras (int8, 32 images): {med('tflite', 'cpu'):.1f} s CPU "
                    f"({med('tflite', 'wall'):.1f} s wall); median of {len(ok['fitml'])}.")]
    return "\n".join(out)
