"""`fitml` command line: thin verbs over toolchain.api. Exit 0 ok, 1 not fit/not equal, 2 error."""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from .. import api
from ..backends.cmemory import caller_inputs, scratch_free
from ..errors import DoesNotFit, FitmlError, ModelError, NotEqual, UsageError
from ..util.atomic import atomic_path
from ..util.text import printable
from ..verify.executors import names
from ..version import __version__
from . import cache as cli_cache
from . import compile as cli_compile
from . import fit as cli_fit
from . import info as cli_info
from .extras import install_hint
from .helptext import complete
from .notices import announce_casts
from .common import add_input_layout, input_buffer_arg, model_arg, print_json, size_arg


def cmd_inspect(args) -> int:
    info = api.inspect(model_arg(args))
    if args.json:
        print_json(info)
        return 0
    print(f"model: {printable(args.model)}")   # names from the model file are escaped
    for key in ("inputs", "outputs"):
        for t in info[key]:
            q = f" scale={t['scale']:.6g} zp={t['zero_point']}" if "scale" in t else ""
            print(f"  {key[:-1]:6s} {printable(t['name'])}: {t['dtype']}{t['shape']}{q}")
    print(f"  {'#':>3} {'op':<20} {'MACs':>10}  output")
    for op in info["ops"]:
        print(f"  {op['index']:>3} {op['kind']:<20} {op['macs']:>10,}  "
              f"{printable(op['outputs'][0][:60])}")
    print(f"params: {info['params_bytes']:,} B   MACs: {info['macs']:,}   "
          f"activation peak (naive): {info['activation_peak_naive_bytes']:,} B")
    if info["state_bytes"]:
        print(f"state kept across invokes: {info['state_bytes']:,} B")
    return 0


def cmd_run(args) -> int:
    inputs = api.read_inputs(args.input)
    target = args.target
    if args.ram or args.flash:
        target = api.target_with(target or "cortex-m4", size_arg(args.ram, "--ram"),
                                 size_arg(args.flash, "--flash"))
    model = api.load(model_arg(args))
    announce_casts(model, inputs)
    result = api.run(model, inputs, executor=args.executor, target=target)
    if args.output:
        with atomic_path(args.output) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **{f"output_{i}": o for i, o in enumerate(result.outputs)})
    if args.json:
        print_json({"executor": args.executor, "outputs": [
            {"shape": list(o.shape), "dtype": str(o.dtype), "values": np.asarray(o).tolist()}
            for o in result.outputs],
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fitml", description=__doc__)
    p.add_argument("--version", action="version", version=f"fitml {__version__}")
    sub = p.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("inspect", help="ops, tensors, params, MACs of a model")
    s.add_argument("model")
    s.add_argument("--json", action="store_true")
    s.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="fix an input's dynamic dims (.onnx; rank-4 shapes are NHWC)")
    add_input_layout(s)
    s.set_defaults(func=cmd_inspect)
    s = sub.add_parser("run", help="run one model on given inputs with one executor")
    s.add_argument("model")
    s.add_argument("-i", "--input", action="append", default=[], metavar="X.npy")
    s.add_argument("--executor", default="reference", choices=names())
    s.add_argument("--target", default=None)
    s.add_argument("--ram", metavar="SIZE", help="--executor qemu: replace the target's main "
                   "RAM capacity")
    s.add_argument("--flash", metavar="SIZE", help="--executor qemu: replace the target's main "
                   "flash capacity (the build links in it; DSP layouts chosen to fit)")
    s.add_argument("-o", "--output", metavar="OUT.npz")
    s.add_argument("--json", action="store_true")
    s.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="fix an input's dynamic dims (.onnx; rank-4 shapes are NHWC)")
    add_input_layout(s)
    s.set_defaults(func=cmd_run)
    cli_compile.add_verbs(sub)
    cli_fit.add_verbs(sub)
    cli_info.add_verbs(sub)
    cli_cache.add_verbs(sub)
    complete(p)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        memory = getattr(args, "memory", "auto")
        with scratch_free(None if memory == "auto" else memory == "small"), \
                caller_inputs(input_buffer_arg(getattr(args, "input_buffer", "arena"))):
            return args.func(args)
    except FitmlError as exc:
        # one line, control characters of model-provided names escaped; only errors that
        # carry a tool's output (compiler, QEMU) keep their line breaks
        multiline = not isinstance(exc, (ModelError, UsageError, DoesNotFit, NotEqual))
        print(f"fitml: error: {printable(exc, keep_newlines=multiline)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:     # `fitml inspect m.tflite | head -1`: the reader left, as in cat
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())   # no second error when Python flushes at exit
        return 141
    except Exception as exc:  # a bug, not bad input: one line unless FITML_DEBUG is set
        if os.environ.get("FITML_DEBUG"):
            raise
        hint = install_hint(exc) if isinstance(exc, ModuleNotFoundError) else None
        if hint is not None:            # an optional extra not installed: say which
            print(f"fitml: error: {hint}", file=sys.stderr)
            return 2
        print(f"fitml: internal error: {type(exc).__name__}: {printable(exc)} "
              f"(set FITML_DEBUG=1 for a traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
