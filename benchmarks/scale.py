"""The compiler at scale: how each stage's cost grows with the model.

Generated MobileNetV2-like models (benchmarks/scale_models.py: conv, depthwise, FC and residual
ADDs) on three ladders: int8 weights from 0.1 to 16 MB at a fixed op count (`weights`), op count
from ~10 to ~500 at a fixed size (`ops`) and float weights (`float`, float C and PTQ), plus the
shared int8 models and MobileNetV2. Timed stages: `compile`, `check` (cold build cache),
`verify` split into reference / host build / host run / QEMU build / QEMU run / TFLite Micro,
PTQ (32 samples along the ladders; 8 to 512 samples on one model), the partition search (lowest
arena) and `fit` (a flash budget that forces int4 / pruning). Each measurement runs in a fresh
process (scale_runner.py, scale_stages.py) with an empty build cache; its CPU time (user + sys,
the gcc / QEMU processes it waits for included) is the primary figure, as wall time on a shared
machine measures the neighbours. Peak memory is the process's resident peak above its size after
the imports. Last, the float MobileNetV2 from PyTorch to verified int8 C beside TFLite's
converter alone on the same network (median of --repeat runs).

Prints one table per ladder and the growth exponent of each stage: the least-squares slope of
log(CPU) against log(weight bytes) (ops ladder: op count; PTQ samples ladder: samples), over
all points and over the upper half (where fixed costs weigh least).

    .venv/bin/python benchmarks/scale.py --quick        # about 15 min
    .venv/bin/python benchmarks/scale.py                # the full ladders, about 2 h
    .venv/bin/python benchmarks/scale.py --only mobilenet --repeat 3
    .venv/bin/python benchmarks/scale.py --readme       # README's Scale section, about 1 min

`--readme` runs the short profile CI reruns (tests/test_readme_gen.py): compile and check (cold
and warm cache) of three shared models and of a three-step int8 weights ladder, with the growth
exponents of that ladder; the long ladders above print the full tables.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks")]
import scale_report as tables  # noqa: E402
from scale_runner import MB, Runner, make_models, measure, warm_check  # noqa: E402

SHARED = REPO.parent / "shared" / "models"
FULL = {"weights": [0.1, 0.25, 0.5, 1, 2, 4, 8, 16], "ops": [10, 20, 50, 100, 250, 500],
        "float": [0.1, 0.4, 1.6, 6.4], "samples": [8, 32, 128, 512], "fit": [0.1, 0.4, 1.6]}
QUICK = {"weights": [0.1, 0.5, 2, 8], "ops": [20, 80, 320], "float": [0.2, 1.6],
         "samples": [8, 64, 512], "fit": [0.1, 0.4]}
OPS = 44              # op count of the weights ladders
OPS_WEIGHTS = 0.5     # MB of int8 weights on the ops ladder
QEMU_MAX = 2.5        # MB of int8 weights the cortex-m7 QEMU machine's 4 MB flash still holds
PARTITION_MAX_OPS = 100
README_WEIGHTS = [0.25, 1, 4]      # MB: the --readme ladder (compile + check, 44 ops)
README_SHARED = ["kws", "vww", "mobilenet_v2"]
SHARED_INT8 = {"kws": "mlperf_tiny/kws/kws_ref_model_int8.tflite",
               "vww": "mlperf_tiny/vww/vww_96_int8.tflite",
               "ic": "mlperf_tiny/ic/pretrainedResnet_quant.tflite",
               "ad": "mlperf_tiny/ad/ad01_int8.tflite",
               "mobilenet_v2": "tflm/mobilenet_v2_pytorch_int8_224.tflite"}


def ladder(run: Runner, name: str, sizes, stages, *, ops_of, mb_of, itemsize=1,
           x_key="weight_bytes", ptq_samples=None) -> list[dict]:
    print(f"\n== ladder {name}", file=sys.stderr, flush=True)
    results = []
    for model in make_models(run, name, sizes, ops_of, mb_of, itemsize):
        m = dict(model, weight_bytes=int(model["mb"] * MB))
        m["results"] = measure(run, model, stages, model["mb"] <= QEMU_MAX,
                               model["ops"] <= PARTITION_MAX_OPS)
        if ptq_samples:
            m["results"]["ptq"] = run.stage("ptq", {"model": model["float"],
                                                    "samples": ptq_samples})
        m["x"] = m[x_key]
        results.append(m)
    return results


def samples_ladder(run: Runner, counts) -> list[dict]:
    print("\n== ladder samples", file=sys.stderr, flush=True)
    model = make_models(run, "samples", [OPS_WEIGHTS], lambda s: OPS, lambda s: s)[0]
    out = []
    for n in counts:
        r = run.stage("ptq", {"model": model["float"], "samples": n})
        out.append(dict(model, x=n, samples=n, results={"ptq": r}))
    return out


def fit_ladder(run: Runner, sizes) -> list[dict]:
    print("\n== ladder fit", file=sys.stderr, flush=True)
    out = []
    for model in make_models(run, "fit", sizes, lambda s: OPS, lambda s: s):
        budget = int(0.7 * model["mb"] * MB) + 64 * 1024   # int8 weights do not fit
        r = run.stage("fit", {"model": model["float"], "target": "cortex-m4", "samples": 16,
                              "flash": budget})
        out.append(dict(model, x=int(model["mb"] * MB), weight_bytes=int(model["mb"] * MB),
                        results={"fit": r}))
    return out


def tflite_op_count(path: Path) -> int:
    """Operators of a .tflite's first subgraph (LiteRT's schema; no fitml import here)."""
    from ai_edge_litert import schema_py_generated as schema  # lazy: only for shared models
    model = schema.Model.GetRootAsModel(path.read_bytes(), 0)
    return model.Subgraphs(0).OperatorsLength()


def shared(run: Runner, keys, stages=("compile", "check", "verify")) -> list[dict]:
    print("\n== shared models", file=sys.stderr, flush=True)
    out = []
    for key in keys:
        path = SHARED / SHARED_INT8[key]
        model = {"model": str(path), "size": key, "file_bytes": path.stat().st_size,
                 "ops": tflite_op_count(path)}
        model["results"] = measure(run, model, stages, True, False)
        if key == "mobilenet_v2" or "verify" not in stages:   # a second run, same cache
            model["results"]["check_warm"] = warm_check(run, str(path))
        out.append(model)
    return out


def mobilenet(run: Runner, repeat: int) -> dict:
    print("\n== MobileNetV2 float: torch -> verified int8 C vs TFLite converter",
          file=sys.stderr, flush=True)
    return {how: [run.stage("mobilenet", {"how": how, "target": run.target})
                  for _ in range(repeat)] for how in ("fitml", "tflite")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the short ladders (about 15 min)")
    ap.add_argument("--only", default="weights,ops,float,samples,fit,shared,mobilenet",
                    help="comma-separated parts to run")
    ap.add_argument("--target", default="cortex-m7")
    ap.add_argument("--repeat", type=int, default=None,
                    help="MobileNetV2 runs per side (median; default 1 quick, 3 full)")
    ap.add_argument("--json", type=Path, help="write every measurement here")
    ap.add_argument("--from-json", type=Path, help="print the tables of an earlier run")
    ap.add_argument("--readme", action="store_true",
                    help="run the short profile and print the README's Scale section")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.from_json:
        data = json.loads(args.from_json.read_text())
    else:
        data = collect_readme(args) if args.readme else collect(args)
        if args.json:
            args.json.write_text(json.dumps(data, indent=1))
    print(tables.readme_section(data) if args.readme else report(data))
    return 0


def collect(args) -> dict:
    sizes, parts = (QUICK if args.quick else FULL), set(args.only.split(","))
    repeat = args.repeat or (1 if args.quick else 3)
    data = {"target": args.target, "quick": args.quick, "cpus": os.cpu_count(),
            "load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="fitml-scale-") as tmp:
        run = Runner(Path(tmp), args.target, args.verbose)
        core = ("compile", "check", "verify", "partition")
        if "weights" in parts:
            data["weights"] = ladder(run, "weights", sizes["weights"], core,
                                     ops_of=lambda s: OPS, mb_of=lambda s: s)
        if "ops" in parts:
            data["ops"] = ladder(run, "ops", sizes["ops"], core, ops_of=lambda s: s,
                                 mb_of=lambda s: OPS_WEIGHTS, x_key="ops")
        if "float" in parts:
            data["float"] = ladder(run, "float", sizes["float"], ("compile", "check", "verify"),
                                   ops_of=lambda s: OPS, mb_of=lambda s: s, itemsize=4,
                                   ptq_samples=32)
        if "samples" in parts:
            data["samples"] = samples_ladder(run, sizes["samples"])
        if "fit" in parts:
            data["fit"] = fit_ladder(run, sizes["fit"])
        if "shared" in parts:
            keys = ["vww", "mobilenet_v2"] if args.quick else list(SHARED_INT8)
            data["shared"] = shared(run, keys)
        if "mobilenet" in parts:
            data["mobilenet"] = mobilenet(run, repeat)
    return data


def collect_readme(args) -> dict:
    """The README's profile: compile and check (cold, then warm cache) of the shared models
    and of the short weights ladder."""
    data = {"target": args.target, "quick": True, "cpus": os.cpu_count(),
            "load": os.getloadavg()[0], "profile": "readme"}
    stages = ("compile", "check")
    with tempfile.TemporaryDirectory(prefix="fitml-scale-") as tmp:
        run = Runner(Path(tmp), args.target, args.verbose)
        data["weights"] = ladder(run, "weights", README_WEIGHTS, stages,
                                 ops_of=lambda s: OPS, mb_of=lambda s: s)
        data["shared"] = shared(run, README_SHARED, stages)
        for model in data["weights"]:
            model["results"]["check_warm"] = warm_check(run, model["model"])
    return data


def report(data: dict) -> str:
    out = [(f"target {data['target']}; CPU s = user+sys of the stage's process and the tools "
            f"it waits for (gcc, QEMU), the primary figure: the machine ({data['cpus']} CPUs) "
            f"had load {data['load']:.1f} when the run began, so wall times are inflated")]
    for key in ("weights", "ops", "float", "samples", "fit", "shared"):
        if key in data:
            out.append(tables.ladder_table(key, data[key]))
    out.append(tables.exponents_table(data))
    if "mobilenet" in data:
        out.append(tables.mobilenet_table(data["mobilenet"]))
    return "\n\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
