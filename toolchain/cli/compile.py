"""The `compile` and `verify` verbs: write a C project or .tflite, then prove it bit-exact
(reference vs host C vs QEMU vs TFLite Micro), printing what was done and measured."""
from __future__ import annotations

import sys
from pathlib import Path

from .. import api
from ..report.text import render_text
from ..util.text import printable
from ..verify.profile import render_text as render_profile
from .common import add_input_layout, add_memory, add_partition, model_arg, print_json, size_arg
from .fit import add_force
from .notices import announce_casts
from .several import compile_several


def cmd_compile(args) -> int:
    if len(args.model) > 1:
        return compile_several(args)
    args.model = args.model[0]
    args.prefix = "model" if args.prefix is None else args.prefix
    report = api.compile(model_arg(args), args.target, args.output, args.format, args.prefix,
                         calib=args.calib, observer=args.observer, io=args.io, val=args.val,
                         partition=args.partition, int16=args.int16,
                         ram=size_arg(args.ram, "--ram"), force=args.force,
                         flash=size_arg(args.flash, "--flash"))
    if args.json:
        print_json(report)
    else:
        arena = report.get("arena_bytes")
        print(f"wrote {args.output} ({report['format']}, target {report['target']})")
        if arena is not None:
            print(f"  arena {arena:,} B   weights {report['weights_bytes']:,} B   "
                  f"MACs {report['macs']:,}")
        if "partition" in report:
            print("  " + _partition_line(report["partition"]))
        if "memory_plan" in report:
            print("  " + SMALL_PLAN_LINE)
        if "int16" in report:
            print("  " + printable(_int16_line(report["int16"])))
        layouts = report.get("dsp_layouts") or []
        if layouts and ("flash_budget" in report or not all(c["kept"] for c in layouts)):
            print("  " + layouts_line(layouts, report.get("flash_budget")))
        if "accuracy" in report:
            print("float vs int8 on the validation data:")
            print("  " + printable(report["accuracy"]["table"], True).replace("\n", "\n  "))
    if not args.verify:
        return 0
    return _verify_compiled(args, report)


def _int16_line(info: dict) -> str:
    layers = info["layers"]
    line = (f"int16 activations ({info['mode']}): {len(layers)} layer"
            f"{'' if len(layers) == 1 else 's'}" + (f" ({', '.join(layers)})" if layers else ""))
    if info["mode"] == "auto":
        line += (f"; output SNR int8 {info['int8_snr_db'] or 0:.1f} dB -> "
                 f"{info['snr_db'] or 0:.1f} dB")
    return line


def _verify_compiled(args, report: dict) -> int:
    """--verify: the compiled graph through host C, QEMU and TFLM, then its fit report."""
    out = Path(args.output)
    compiled = out if out.suffix == ".tflite" else out / (
        f"{args.prefix}.tflite" if report["format"] == "c" else "model.tflite")
    flash = size_arg(args.flash, "--flash")
    result = api.verify(compiled, args.target, None, args.random, partition=args.partition,
                        flash=flash)
    print()
    _print_verify(compiled, result)
    fit = api.check(compiled, args.target, flash=flash, partition=args.partition)
    print()
    sys.stdout.write(render_text(fit))
    return 0 if result["ok"] and fit.fits else 1


def cmd_verify(args) -> int:
    inputs = api.read_inputs(args.input) if args.input else None
    model = model_arg(args)
    if inputs:
        announce_casts(api.load(model), inputs)
    report = api.verify(model, args.target, inputs, args.random,
                        partition=args.partition, ram=size_arg(args.ram, "--ram"),
                        flash=size_arg(args.flash, "--flash"), profile=args.profile)
    if args.json:
        print_json(report)
    else:
        _print_verify(args.model, report)
        if "profile" in report:
            print(f"\nprofile on {report['target']} (first input; instructions exact, cycles "
                  "and ms ESTIMATED):")
            sys.stdout.write(render_profile(report["profile"]))
    return 0 if report["ok"] else 1


def layouts_line(choices: list[dict], budget: int | None) -> str:
    """One line: the DSP layouts kept and left out, their flash and estimated gain."""
    kept = [c for c in choices if c["kept"]]
    plain = [c for c in choices if not c["kept"]]
    line = (f"DSP layouts: {len(kept)} of {len(choices)} kept ({sum(c['bytes'] for c in kept):,}"
            f" B flash, ~{sum(c['insns_saved_est'] for c in kept):,} instructions saved, est.)")
    if plain:
        line += (f"; {len(plain)} on the int8 path to fit"
                 + (f" {budget:,} B of flash" if budget else " the flash")
                 + f": op {', '.join(str(c['op']) for c in plain)}")
    return line


def _print_verify(model, report: dict) -> None:
    over = report.get("overrides") or {}
    sizes = ", ".join(f"{k} {v:,} B" for k, v in over.items() if v is not None)
    print(f"verify {printable(model)} on {report['target']}" + (f" ({sizes})" if sizes else "")
          + f" ({report['cases']} inputs)")
    for name, r in report["executors"].items():
        if "skipped" in r:                      # an optional oracle not installed
            print(f"  {name}: skipped ({r['skipped']})")
            continue
        verdict = "bit-exact" if r["bit_exact"] else (
            "within tolerance" if r["within_tolerance"] else "MISMATCH")
        extra = f"  ({printable(r['error'])})" if "error" in r else ""
        print(f"  reference vs {name:<6} {verdict:<17} max |diff| {r['max_abs_diff']:g}{extra}")
    st = report["stats"]
    if st.get("instructions"):
        print(f"  {st['instructions']:,} instructions per inference, "
              f"{st['instructions'] / max(st['macs'], 1):.2f} per MAC "
              f"({st['macs']:,} MACs); stack {st['stack_bytes']:,} B")
        print(f"  ELF: text {st['text']:,} B  rodata {st['rodata']:,} B  "
              f"data {st['data']:,} B  bss {st['bss']:,} B")
    if "memory_plan" in report:
        print("  " + SMALL_PLAN_LINE)
    if "partition" in report:
        p = report["partition"]
        print("  " + _partition_line(p) + ("; partitioned reference bit-exact to the "
                                          "layer-by-layer one" if p["unpartitioned_bit_exact"]
                                          else "; partitioned reference DIFFERS"))


SMALL_PLAN_LINE = ("memory plan: small (chosen for the board: the fast plan's activations "
                   "do not fit its RAM, nor a partition: smallest arena, scratch-free "
                   "kernels, more instructions)")


def _partition_line(p: dict) -> str:
    stages = ", ".join(f"ops {s['ops'][0]}..{s['ops'][1]} in {s['grid'][0]}x{s['grid'][1]}"
                       for s in p["stages"])
    return (f"partitioned ({p['mode']}): {stages}; activations {p['peak_before_bytes']:,} -> "
            f"{p['peak_after_bytes']:,} B, MACs +{100 * p['mac_overhead']:.2f}%")


def add_verbs(sub) -> None:
    """The `compile` and `verify` subparsers."""
    s = sub.add_parser("compile", help="compile a model for a target (C project or .tflite)")
    s.add_argument("model", nargs="+", help="the model file (.tflite, .onnx, .h5/.keras, .pt2); "
                   "several quantized models compile into one C project sharing one runtime")
    s.add_argument("--target", default="cortex-m4")
    s.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="the C project folder (or OUT.tflite with --format tflite), created "
                   "with missing parents; an existing folder is replaced only if it is empty "
                   "or a previous fitml output (see --force)")
    add_force(s)
    s.add_argument("--format", default=None, choices=["c", "tflite", "c-array"],
                   help="c: a C project; tflite: a .tflite; c-array: the .tflite as an aligned "
                   "C array + header for TFLite Micro projects (default: the target's: c for "
                   "cores and boards, tflite for mobile)")
    s.add_argument("--prefix", default=None, help="C identifier prefix; several models: one "
                   "per model, comma-separated (default: model; several models: each file's "
                   "name)")
    s.add_argument("--calib", metavar="DATA", help="quantize a float model to int8 with this "
                   "calibration data (.npy/.npz file or a directory of them)")
    s.add_argument("--observer", default="minmax",
                   help="activation range observer: minmax, percentile[:99.99], mse")
    s.add_argument("--io", default="int8", choices=["int8", "float"],
                   help="quantized model inputs/outputs: int8, or float with (de)quantize ops")
    s.add_argument("--val", metavar="DATA.npz",
                   help="held-out inputs (+ `labels`): report float vs int8 accuracy")
    s.add_argument("--int16", metavar="auto|all|LAYER[,LAYER]",
                   help="int16 activations (TFLite's 16x8) for these layers; auto: the noisiest "
                   "layers while RAM holds and the measured SNR gain is worth it")
    s.add_argument("--ram", metavar="SIZE", help="RAM budget for --int16 auto (default: the "
                   "target's main RAM)")
    add_flash(s)
    s.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...")
    add_input_layout(s)
    add_memory(s)
    s.add_argument("--verify", action="store_true", help="then run the compiled model on host "
                   "C, QEMU and TFLite Micro against the reference and print its fit report")
    s.add_argument("--random", type=int, default=3, metavar="N",
                   help="with --verify: seeded random inputs to compare on (default 3)")
    s.add_argument("--json", action="store_true")
    add_partition(s)
    s.set_defaults(func=cmd_compile)
    s = sub.add_parser("verify", help="reference vs host C vs QEMU (vs TFLite Micro)")
    s.add_argument("model")
    s.add_argument("--target", default="cortex-m4")
    s.add_argument("-i", "--input", action="append", default=[], metavar="X.npy")
    s.add_argument("--random", type=int, default=3, metavar="N")
    s.add_argument("--json", action="store_true")
    s.add_argument("--ram", metavar="SIZE", help="replace the target's main RAM capacity")
    add_flash(s)
    s.add_argument("--profile", action="store_true",
                   help="also print instructions per op (exact, a profile build under QEMU) "
                   "and ESTIMATED cycles and milliseconds at the board's clock")
    add_input_layout(s)
    add_partition(s)
    add_memory(s)
    s.set_defaults(func=cmd_verify)


def add_flash(s) -> None:
    s.add_argument("--flash", metavar="SIZE",
                   help="replace the target's main flash capacity (e.g. --target cortex-m4 "
                   "--flash 66K): the DSP weight layouts that fit are kept, most instructions "
                   "saved per byte first, and the QEMU build links in that flash")
