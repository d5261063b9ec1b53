"""`fitml` command line: thin verbs over toolchain.api. Exit 0 ok, 1 not fit/not equal, 2 error."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from . import api
from .errors import FitmlError
from .util.atomic import atomic_path


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False))


def _input_shapes(specs) -> dict:
    """--input-shape NAME=1,28,28,1 (repeatable) -> {NAME: (1, 28, 28, 1)}."""
    from .errors import UsageError
    shapes = {}
    for spec in specs or ():
        name, _, dims = spec.rpartition("=")
        try:
            shapes[name] = tuple(int(d) for d in dims.split(","))
        except ValueError:
            name = ""
        if not name or any(d < 1 for d in shapes.get(name, ())):
            raise UsageError(f"--input-shape {spec!r}: expected NAME=D0,D1,... with sizes >= 1")
    return shapes


def _model(args):
    """The model path, or the loaded Graph when --input-shape fixes dynamic dims."""
    shapes = _input_shapes(getattr(args, "input_shape", None))
    return api.load(args.model, input_shapes=shapes) if shapes else args.model


def cmd_inspect(args) -> int:
    info = api.inspect(_model(args))
    if args.json:
        _print_json(info)
        return 0
    print(f"model: {args.model}")
    for key in ("inputs", "outputs"):
        for t in info[key]:
            q = f" scale={t['scale']:.6g} zp={t['zero_point']}" if "scale" in t else ""
            print(f"  {key[:-1]:6s} {t['name']}: {t['dtype']}{t['shape']}{q}")
    print(f"  {'#':>3} {'op':<20} {'MACs':>10}  output")
    for op in info["ops"]:
        print(f"  {op['index']:>3} {op['kind']:<20} {op['macs']:>10,}  {op['outputs'][0][:60]}")
    print(f"params: {info['params_bytes']:,} B   MACs: {info['macs']:,}   "
          f"activation peak (naive): {info['activation_peak_naive_bytes']:,} B")
    return 0


def cmd_run(args) -> int:
    inputs = api.read_inputs(args.input)
    result = api.run(_model(args), inputs, executor=args.executor, target=args.target)
    if args.output:
        with atomic_path(args.output) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **{f"output_{i}": o for i, o in enumerate(result.outputs)})
    if args.json:
        _print_json({"executor": args.executor, "outputs": [
            {"shape": list(o.shape), "dtype": str(o.dtype)} for o in result.outputs],
            "stats": result.stats})
    else:
        for i, o in enumerate(result.outputs):
            flat = np.asarray(o).ravel()
            shown = np.array2string(flat[:16], separator=", ")
            more = f" ... ({flat.size} values)" if flat.size > 16 else ""
            print(f"output_{i} {o.dtype}{list(o.shape)}: {shown}{more}")
        for k, v in result.stats.items():
            print(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}")
    return 0


def cmd_compile(args) -> int:
    report = api.compile(_model(args), args.target, args.output, args.format, args.prefix,
                         calib=args.calib, observer=args.observer, io=args.io, val=args.val,
                         partition=args.partition, int16=args.int16,
                         ram=_size(args.ram, "--ram"))
    if args.json:
        _print_json(report)
    else:
        arena = report.get("arena_bytes")
        print(f"wrote {args.output} ({report['format']}, target {report['target']})")
        if arena is not None:
            print(f"  arena {arena:,} B   weights {report['weights_bytes']:,} B   "
                  f"MACs {report['macs']:,}")
        if "partition" in report:
            print("  " + _partition_line(report["partition"]))
        if "int16" in report:
            print("  " + _int16_line(report["int16"]))
        if "accuracy" in report:
            print("float vs int8 on the validation data:")
            print("  " + report["accuracy"]["table"].replace("\n", "\n  "))
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
    from . import report as rep
    out = Path(args.output)
    compiled = out if out.suffix == ".tflite" else out / (
        f"{args.prefix}.tflite" if report["format"] == "c" else "model.tflite")
    result = api.verify(compiled, args.target, None, args.random, partition=args.partition)
    print()
    _print_verify(compiled, result)
    fit = api.check(compiled, args.target, partition=args.partition)
    print()
    sys.stdout.write(rep.render_text(fit))
    return 0 if result["ok"] and fit.fits else 1


def cmd_verify(args) -> int:
    inputs = api.read_inputs(args.input) if args.input else None
    report = api.verify(args.model, args.target, inputs, args.random,
                        partition=args.partition)
    if args.json:
        _print_json(report)
    else:
        _print_verify(args.model, report)
    return 0 if report["ok"] else 1


def _print_verify(model, report: dict) -> None:
    print(f"verify {model} on {report['target']} ({report['cases']} inputs)")
    for name, r in report["executors"].items():
        verdict = "bit-exact" if r["bit_exact"] else (
            "within tolerance" if r["within_tolerance"] else "MISMATCH")
        extra = f"  ({r['error']})" if "error" in r else ""
        print(f"  reference vs {name:<6} {verdict:<17} max |diff| {r['max_abs_diff']:g}{extra}")
    st = report["stats"]
    if st.get("instructions"):
        print(f"  {st['instructions']:,} instructions per inference, "
              f"{st['instructions'] / max(st['macs'], 1):.2f} per MAC "
              f"({st['macs']:,} MACs); stack {st['stack_bytes']:,} B")
        print(f"  ELF: text {st['text']:,} B  rodata {st['rodata']:,} B  "
              f"data {st['data']:,} B  bss {st['bss']:,} B")
    if "partition" in report:
        p = report["partition"]
        print("  " + _partition_line(p) + ("; partitioned reference bit-exact to the "
                                          "layer-by-layer one" if p["unpartitioned_bit_exact"]
                                          else "; partitioned reference DIFFERS"))


def _partition_line(p: dict) -> str:
    stages = ", ".join(f"ops {s['ops'][0]}..{s['ops'][1]} in {s['grid'][0]}x{s['grid'][1]}"
                       for s in p["stages"])
    return (f"partitioned ({p['mode']}): {stages}; activations {p['peak_before_bytes']:,} -> "
            f"{p['peak_after_bytes']:,} B, MACs +{100 * p['mac_overhead']:.2f}%")


SIZE_FORMS = "bytes (262144), hex (0x40000) or a number with K, M or G (256K, 1M, 512KiB)"


def _size(value, flag: str):
    """A --ram/--flash/--reserve-ram value in bytes; a bad one names the flag and the forms."""
    from .errors import UsageError
    from .targets import TargetError, parse_size
    if value is None:
        return None
    try:
        return parse_size(value)
    except TargetError:
        raise UsageError(f"{flag} {value!r}: not a size; use {SIZE_FORMS}") from None


def _fit(args):
    """The fit report for `check` and `report`, rendered as asked (and plotted if asked)."""
    from . import report as rep
    result = api.check(_model(args), args.target, _size(args.ram, "--ram"),
                       _size(args.flash, "--flash"), _size(args.reserve_ram, "--reserve-ram") or 0,
                       measure=not args.no_measure, partition=args.partition)
    render = {"json": rep.to_json, "md": rep.render_markdown, "text": rep.render_text}
    sys.stdout.write(render[args.format](result))
    if args.plot:
        rep.write_plot(result, args.plot)
    return result


def cmd_check(args) -> int:
    result = _fit(args)
    if not result.fits:
        print(f"fitml: {result.verdict()}", file=sys.stderr)
        return 1
    return 0


def cmd_report(args) -> int:
    _fit(args)
    return 0


def _add_fit_verb(sub, name: str, func, help: str) -> None:
    s = sub.add_parser(name, help=help)
    s.add_argument("model")
    s.add_argument("--target", required=True, metavar="BOARD", help="board/core name or .toml")
    s.add_argument("--ram", metavar="SIZE", help="replace the main RAM region's capacity")
    s.add_argument("--flash", metavar="SIZE", help="replace the main flash region's capacity")
    s.add_argument("--reserve-ram", metavar="SIZE", help="keep SIZE bytes of RAM for the app")
    s.add_argument("--format", default="text", choices=["text", "json", "md"])
    s.add_argument("--plot", metavar="OUT.svg", help="memory timeline (.svg, or .png)")
    s.add_argument("--no-measure", action="store_true",
                   help="skip the ELF build and QEMU run (code and stack not measured)")
    _add_memory(s)
    s.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="fix an input's dynamic dims (.onnx; rank-4 shapes are NHWC)")
    _add_partition(s)
    s.set_defaults(func=func)


def _add_partition(s) -> None:
    s.add_argument("--partition", default="auto", metavar="off|auto|NxM",
                   help="patch-based execution of the first layers (MCUNetV2): auto (default) "
                   "when the layer-by-layer activations do not fit RAM, off, or a grid NxM")


def cmd_fit(args) -> int:
    """Search int4 / pruning candidates; write the least lossy one that fits (exit 1: none)."""
    from . import report as rep
    from .compress import report as fit_rep
    result = api.fit_model(_model(args), args.target, args.calib, args.val, args.output,
                           args.max_drop, _size(args.ram, "--ram"), _size(args.flash, "--flash"),
                           _size(args.reserve_ram, "--reserve-ram") or 0, args.criterion,
                           args.observer, args.finetune_epochs, args.train,
                           prefix=args.prefix, measure=not args.no_measure)
    if args.plot:
        with atomic_path(args.plot) as tmp:
            Path(tmp).write_text(fit_rep.svg(result))
    if args.json:
        _print_json(fit_rep.to_dict(result))
    else:
        acc = result.float_accuracy
        print(f"fitml fit {args.model} -> {result.target}: {len(result.candidates)} candidates, "
              f"loss on {result.samples} samples"
              + (f" (float accuracy {100 * acc:.2f}%)" if acc is not None else ""))
        print(fit_rep.table(result))
        if result.ok:
            c = result.chosen
            print(f"\nchosen: {c.name} (drop {c.drop:.2f} points, output SNR "
                  f"{c.snr_db:.1f} dB); written to {args.output}")
            print(fit_rep.changes_text(fit_rep.layer_changes(result.float_graph, c)))
            print()
            sys.stdout.write(rep.render_text(c.fit, ops=False))
    if not result.ok:
        print(f"fitml: {result.reason}", file=sys.stderr)
        return 1
    return 0


def _add_fit_search_verb(sub) -> None:
    s = sub.add_parser("fit", help="make a float model fit a board: int4 weights, pruning")
    s.add_argument("model")
    s.add_argument("--target", required=True, metavar="BOARD", help="board/core name or .toml")
    s.add_argument("--calib", required=True, metavar="DATA",
                   help="calibration inputs (.npy/.npz file or a directory of them)")
    s.add_argument("--val", metavar="DATA.npz", help="held-out inputs (+ `labels`) the loss is "
                   "measured on (default: the calibration data, agreement with float)")
    s.add_argument("--max-drop", type=float, metavar="PCT",
                   help="most top-1 points the chosen candidate may lose")
    s.add_argument("-o", "--output", required=True, metavar="DIR", help="C project to write")
    s.add_argument("--ram", metavar="SIZE", help="replace the main RAM region's capacity")
    s.add_argument("--flash", metavar="SIZE", help="replace the main flash region's capacity")
    s.add_argument("--reserve-ram", metavar="SIZE", help="keep SIZE bytes of RAM for the app")
    s.add_argument("--criterion", default="activation", choices=["activation", "l1", "l2"],
                   help="channel importance for pruning (default: activation, data-driven)")
    s.add_argument("--observer", default="minmax", help="activation range observer")
    s.add_argument("--finetune-epochs", type=int, default=0, metavar="N",
                   help="recovery fine-tuning epochs (PyTorch) on --train data")
    s.add_argument("--train", metavar="DATA.npz", help="training inputs + `labels`")
    s.add_argument("--prefix", default="model", help="C identifier prefix (default: model)")
    s.add_argument("--plot", metavar="OUT.svg", help="also write the Pareto plot here")
    s.add_argument("--no-measure", action="store_true",
                   help="skip the ELF builds and QEMU runs (code and stack not measured)")
    s.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_fit)


def _add_memory(s) -> None:
    s.add_argument("--memory", default="fast", choices=["fast", "small"],
                   help="fast: the fastest kernels; small: the smallest arena (residual ADDs "
                        "fused into their convs, scratch-free kernels at the peak; bit-exact, "
                        "more instructions)")
    s.add_argument("--input-buffer", default="arena", choices=["arena", "caller"],
                   help="arena: inputs are copied into the arena; caller: the model reads "
                        "them in place from buffers the caller owns (e.g. a camera DMA "
                        "frame): a smaller arena, the input bytes counted apart")


def build_parser() -> argparse.ArgumentParser:
    from .verify.executors import names
    p = argparse.ArgumentParser(prog="fitml", description=__doc__)
    sub = p.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("inspect", help="ops, tensors, params, MACs of a model")
    s.add_argument("model")
    s.add_argument("--json", action="store_true")
    s.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="fix an input's dynamic dims (.onnx; rank-4 shapes are NHWC)")
    s.set_defaults(func=cmd_inspect)
    s = sub.add_parser("run", help="run one model on given inputs with one executor")
    s.add_argument("model")
    s.add_argument("-i", "--input", action="append", default=[], metavar="X.npy")
    s.add_argument("--executor", default="reference", choices=names())
    s.add_argument("--target", default=None)
    s.add_argument("-o", "--output", metavar="OUT.npz")
    s.add_argument("--json", action="store_true")
    s.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="fix an input's dynamic dims (.onnx; rank-4 shapes are NHWC)")
    s.set_defaults(func=cmd_run)
    s = sub.add_parser("compile", help="compile a model for a target (C project or .tflite)")
    s.add_argument("model")
    s.add_argument("--target", default="cortex-m4")
    s.add_argument("-o", "--output", required=True, metavar="DIR")
    s.add_argument("--format", default=None, choices=["c", "tflite"],
                   help="default: the target's (c for cores and boards, tflite for mobile)")
    s.add_argument("--prefix", default="model", help="C identifier prefix (default: model)")
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
    s.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...")
    _add_memory(s)
    s.add_argument("--verify", action="store_true", help="then run the compiled model on host "
                   "C, QEMU and TFLite Micro against the reference and print its fit report")
    s.add_argument("--random", type=int, default=3, metavar="N",
                   help="with --verify: seeded random inputs to compare on (default 3)")
    s.add_argument("--json", action="store_true")
    _add_partition(s)
    s.set_defaults(func=cmd_compile)
    s = sub.add_parser("verify", help="reference vs host C vs QEMU (vs TFLite Micro)")
    s.add_argument("model")
    s.add_argument("--target", default="cortex-m4")
    s.add_argument("-i", "--input", action="append", default=[], metavar="X.npy")
    s.add_argument("--random", type=int, default=3, metavar="N")
    s.add_argument("--json", action="store_true")
    _add_partition(s)
    _add_memory(s)
    s.set_defaults(func=cmd_verify)
    _add_fit_verb(sub, "check", cmd_check, "does it fit the board? exit 0 fits, 1 does not")
    _add_fit_verb(sub, "report", cmd_report, "the fit report (memory per region and op)")
    _add_fit_search_verb(sub)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .backends.cmemory import caller_inputs, scratch_free
    try:
        with scratch_free(getattr(args, "memory", "fast") == "small"), \
                caller_inputs(getattr(args, "input_buffer", "arena") == "caller"):
            return args.func(args)
    except FitmlError as exc:
        print(f"fitml: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: one line unless FITML_DEBUG is set
        if os.environ.get("FITML_DEBUG"):
            raise
        print(f"fitml: internal error: {type(exc).__name__}: {exc} "
              f"(set FITML_DEBUG=1 for a traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
