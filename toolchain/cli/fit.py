"""The fit verbs: `check` and `report` (the fit report, exit 1 when it does not fit for check)
and `fit` (search int4 / pruning candidates and write the least lossy one that fits)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .. import api
from ..errors import UsageError
from ..fit import search_report as fit_rep
from ..report.compare import read_baseline
from ..report.fit_report import to_json
from ..report.mobile import MobileReport
from ..report.plot import write_plot
from ..report.text import render_markdown, render_text
from ..util.atomic import atomic_path
from ..util.outpath import check_file_target
from ..util.text import printable
from .gates import gates, matrix, single
from .common import (
    add_input_layout,
    add_memory,
    add_partition,
    model_arg,
    print_json,
    size_arg,
)

OUTPUT_HELP = ("the C project folder, created with missing parents; an existing one is "
               "replaced only if it is empty or a previous fitml output (see --force)")


def add_force(s) -> None:
    s.add_argument("--force", action="store_true",
                   help="replace -o even when it holds files fitml did not write (they are "
                   "deleted); never a file, a symlink, '.', or a folder holding an input")


def _fit(args):
    """The fit report for `check` and `report`, rendered as asked (and plotted if asked)."""
    if args.plot:
        check_file_target(args.plot, "--plot")
    result = api.check(model_arg(args), args.target, size_arg(args.ram, "--ram"),
                       size_arg(args.flash, "--flash"),
                       size_arg(args.reserve_ram, "--reserve-ram") or 0,
                       measure=not args.no_measure, partition=args.partition)
    if isinstance(result, MobileReport):      # a phone target: no regions, no plot
        if args.plot:
            raise UsageError(f"--plot draws RAM regions; {result.target} has none")
        sys.stdout.write({"json": lambda r: json.dumps(r.to_dict(), indent=2) + "\n",
                          "md": MobileReport.render_markdown,
                          "text": MobileReport.render_text}[args.format](result))
        return result
    render = {"json": to_json, "md": render_markdown, "text": render_text}
    sys.stdout.write(render[args.format](result))
    if args.plot:
        write_plot(result, args.plot)
    return result


def cmd_check(args) -> int:
    if not single(args):
        return matrix(args)
    if args.fail_on_growth is not None and not args.baseline:
        raise UsageError("--fail-on-growth compares with an earlier report: give --baseline "
                         "OLD.json (from `fitml check --format json`)")
    baseline = read_baseline(args.baseline) if args.baseline else None   # before any output
    if args.max_ms is not None and not api.target_with(args.target).clock_hz:
        raise UsageError(f"--max-ms needs a clock: target {args.target} has none (give a "
                         "board, or a .toml with clock_hz)")
    result = _fit(args)
    failed = gates(args, result, baseline)
    if not result.fits:
        print(f"fitml: {result.verdict()}", file=sys.stderr)
    for line in failed:
        print(f"fitml: {line}", file=sys.stderr)
    return 1 if failed or not result.fits else 0


def cmd_report(args) -> int:
    if not single(args):
        raise UsageError("report takes one model and one --target; `check` takes several")
    baseline = read_baseline(args.baseline) if args.baseline else None
    result = _fit(args)
    args.fail_on_growth, args.max_ms = None, None        # report never gates
    gates(args, result, baseline)
    return 0


def _add_fit_verb(sub, name: str, func, help: str) -> None:
    s = sub.add_parser(name, help=help)
    s.add_argument("models", nargs="+", metavar="MODEL",
                   help="model file(s); check: several for a models x targets matrix")
    s.add_argument("--target", required=True, action="append", metavar="BOARD",
                   help="board/core name or .toml; check: repeat it (and give several models) "
                   "for a models x targets matrix")
    s.add_argument("--ram", metavar="SIZE", help="replace the main RAM region's capacity")
    s.add_argument("--flash", metavar="SIZE", help="replace the main flash region's capacity")
    s.add_argument("--reserve-ram", metavar="SIZE", help="keep SIZE bytes of RAM for the app")
    s.add_argument("--format", default="text", choices=["text", "json", "md"])
    s.add_argument("--plot", metavar="OUT.svg", help="memory timeline (.svg, or .png) into an "
                   "existing folder; an existing file is replaced only if of the same kind")
    s.add_argument("--no-measure", action="store_true",
                   help="skip the ELF build and QEMU run (code and stack not measured)")
    s.add_argument("--baseline", metavar="OLD.json", help="an earlier `--format json` report: "
                   "print what changed (bytes per region, arena, flash split, instructions)")
    if name == "check":
        s.add_argument("--jobs", type=int, default=None, metavar="N", help="matrix: checks "
                       "run at once (default: the CPU count)")
        s.add_argument("--ray", metavar="ADDRESS", help="matrix: run the checks on a Ray "
                       "cluster (ADDRESS of its head, or 'local' for one on this machine; "
                       "pip install 'fitml[ray]')")
        s.add_argument("--fail-on-growth", type=float, metavar="PCT",
                       help="with --baseline: exit 1 if any of those grew by more than PCT%%")
        s.add_argument("--max-ms", type=float, metavar="MS", help="exit 1 if one inference's "
                       "estimated time at the board's clock exceeds MS (a profile build and "
                       "QEMU run; cycles estimated from the core's timing table)")
    add_memory(s)
    s.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="fix an input's dynamic dims (.onnx; rank-4 shapes are NHWC)")
    add_input_layout(s)
    add_partition(s)
    s.set_defaults(func=func)


def cmd_fit(args) -> int:
    """Search int4 / pruning candidates; write the least lossy one that fits (exit 1: none)."""
    if args.plot:
        check_file_target(args.plot, "--plot", "svg")
    result = api.fit_model(model_arg(args), args.target, args.calib, args.val, args.output,
                           args.max_drop, size_arg(args.ram, "--ram"),
                           size_arg(args.flash, "--flash"),
                           size_arg(args.reserve_ram, "--reserve-ram") or 0, args.criterion,
                           args.observer, args.finetune_epochs, args.train,
                           prefix=args.prefix, measure=not args.no_measure, force=args.force)
    if args.plot:
        with atomic_path(args.plot) as tmp:
            Path(tmp).write_text(fit_rep.svg(result))
    if args.json:
        print_json(fit_rep.to_dict(result))
    else:
        acc = result.float_accuracy
        print(f"fitml fit {printable(args.model)} -> {result.target}: "
              f"{len(result.candidates)} candidates, "
              f"loss on {result.samples} samples"
              + (f" (float accuracy {100 * acc:.2f}%)" if acc is not None else ""))
        print(fit_rep.table(result))
        if result.ok:
            c = result.chosen
            print(f"\nchosen: {printable(c.name)} (drop {c.drop:.2f} points, output SNR "
                  f"{c.snr_db:.1f} dB); written to {args.output}")
            print(fit_rep.changes_text(fit_rep.layer_changes(result.float_graph, c)))
            print()
            sys.stdout.write(render_text(c.fit, ops=False))
    if not result.ok:
        print(f"fitml: {printable(result.reason)}", file=sys.stderr)
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
                   help="most top-1 points the chosen candidate may lose (default: no limit: "
                   "the least lossy candidate that fits is chosen)")
    s.add_argument("-o", "--output", required=True, metavar="DIR", help=OUTPUT_HELP)
    add_force(s)
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
    s.add_argument("--plot", metavar="OUT.svg", help="also write the Pareto plot here (an "
                   "existing folder; an existing file is replaced only if it is an SVG)")
    s.add_argument("--no-measure", action="store_true",
                   help="skip the ELF builds and QEMU runs (code and stack not measured)")
    s.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_fit)


def add_verbs(sub) -> None:
    """The `check`, `report` and `fit` subparsers."""
    _add_fit_verb(sub, "check", cmd_check, "does it fit the board? exit 0 fits, 1 does not")
    _add_fit_verb(sub, "report", cmd_report, "the fit report (memory per region and op)")
    _add_fit_search_verb(sub)
