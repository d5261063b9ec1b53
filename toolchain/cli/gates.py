"""`check`'s gates and matrix: --baseline deltas, --fail-on-growth, --max-ms, and several
models x several targets in one table."""
from __future__ import annotations

import sys
from pathlib import Path

from .. import api
from ..errors import UsageError
from ..report.compare import compare, growth, render
from ..report.matrix import exit_code as matrix_exit
from ..report.matrix import render as render_matrix
from ..util.text import printable
from .common import input_buffer_arg, model_arg, size_arg


def gates(args, result, baseline: dict | None) -> list[str]:
    """--baseline's comparison (printed), --fail-on-growth and --max-ms: the failed gates."""
    failed = []
    if baseline is not None:
        deltas = compare(baseline, result.to_dict())
        if args.format != "json":
            sys.stdout.write("\n" + render(deltas, args.format == "md",
                                            printable(Path(args.baseline).name)))
        if args.fail_on_growth is not None:
            failed += [f"{d.what} grew {d.old:,} -> {d.new:,}"
                       + ("" if d.percent is None else f" ({d.percent:+.1f}%)")
                       + f", more than --fail-on-growth {args.fail_on_growth:g}%"
                       for d in growth(deltas, args.fail_on_growth)]
    if args.max_ms is not None:
        est = api.estimated_ms(model_arg(args), args.target, size_arg(args.ram, "--ram"),
                               size_arg(args.flash, "--flash"), args.partition)
        if args.format != "json":
            print(f"latency: ~{est['est_ms']:.3f} ms estimated ({est['est_cycles']:,} cycles "
                  f"at {est['clock_hz'] / 1e6:g} MHz, zero-wait memory), --max-ms "
                  f"{args.max_ms:g}")
        if est["est_ms"] > args.max_ms:
            failed.append(f"estimated latency {est['est_ms']:.3f} ms exceeds --max-ms "
                          f"{args.max_ms:g}")
    return failed


def single(args) -> bool:
    """One model on one target (the full report), or a matrix of several."""
    single = len(args.models) == 1 and len(args.target) == 1
    if single:
        args.model, args.target = args.models[0], args.target[0]
    return single


def matrix(args) -> int:
    """Several models and/or targets: one check per pair in parallel, one table."""
    used = [flag for flag, on in (("--plot", args.plot), ("--baseline", args.baseline),
                                  ("--max-ms", getattr(args, "max_ms", None) is not None),
                                  ("--input-shape", args.input_shape),
                                  ("--input-layout", args.input_layout)) if on]
    if used:
        raise UsageError(f"{', '.join(used)}: one model on one target only (got "
                         f"{len(args.models)} models x {len(args.target)} targets)")
    options = {"ram": size_arg(args.ram, "--ram"), "flash": size_arg(args.flash, "--flash"),
               "reserve_ram": size_arg(args.reserve_ram, "--reserve-ram") or 0,
               "measure": not args.no_measure, "partition": args.partition,
               "memory": args.memory, "input_buffer": input_buffer_arg(args.input_buffer)}
    cells = api.check_matrix(args.models, args.target, options, args.jobs, args.ray)
    sys.stdout.write(render_matrix(cells, args.format))
    for c in cells:
        if c.status != "fits":
            print(f"fitml: {printable(c.model)} on {c.target}: {printable(c.verdict)}",
                  file=sys.stderr)
    return matrix_exit(cells)
