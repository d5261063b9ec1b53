"""`fitml compile A B C -o DIR --prefix a,b,c`: several models, one C project, one runtime."""
from __future__ import annotations

from pathlib import Path

from .. import api
from ..errors import UsageError
from ..util.text import printable
from .common import print_json

ONE_MODEL_ONLY = (("calib", "--calib"), ("val", "--val"), ("int16", "--int16"),
                  ("input_shape", "--input-shape"), ("ram", "--ram"), ("flash", "--flash"))


def compile_several(args) -> int:
    """Compile every model into args.output with one shared runtime; --verify checks each."""
    given = [flag for key, flag in ONE_MODEL_ONLY if getattr(args, key, None)]
    if args.format not in (None, "c"):
        given.append(f"--format {args.format}")
    if given:
        raise UsageError(f"{', '.join(given)} applies to one model; several models compile "
                         "as given into one C project: quantize or convert each first (fitml "
                         "compile MODEL --calib DATA --format tflite -o MODEL_int8.tflite)")
    report = api.compile_models(args.model, args.target, args.output, args.prefix,
                                partition=args.partition, force=args.force)
    if args.json:
        print_json(report)
    else:
        rt = report["runtime"]
        print(f"wrote {args.output} (c, target {report['target']}): {len(report['models'])} "
              f"models, one runtime ({len(rt['kernels'])} {rt['variant']} kernels)")
        for m in report["models"]:
            print(f"  {m['prefix']:<12} arena {m['arena_bytes']:,} B   weights "
                  f"{m['weights_bytes']:,} B   MACs {m['macs']:,}   "
                  f"({printable(m['model'])})")
    if not args.verify:
        return 0
    ok = True
    for m in report["models"]:
        compiled = Path(args.output) / f"{m['prefix']}.tflite"
        result = api.verify(compiled, args.target, None, args.random, partition=args.partition)
        verdicts = ", ".join(f"{name} {_verdict(r)}"
                             for name, r in result["executors"].items())
        print(f"verify {m['prefix']}: {verdicts}")
        ok &= bool(result["ok"])
    return 0 if ok else 1


def _verdict(r: dict) -> str:
    if "skipped" in r:
        return f"skipped ({r['skipped']})"
    return "bit-exact" if r["bit_exact"] else "within tolerance" if r["within_tolerance"] \
        else "MISMATCH"
