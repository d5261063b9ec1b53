"""Regenerate the numbers of docs/ci.md and docs/report-schema.md from real `fitml check` runs,
and the operator table of docs/ops.md from the op registry, the runtime and the frontends.

Every measured number in those pages sits between `<!-- gen:NAME -->` and `<!-- /gen:NAME -->`
markers and is written here, from the fit report of a shipped model on a shipped board (code
and stack measured on the built ELF and one QEMU run, as `fitml check` does); the table of
docs/ops.md is derived from the code by docs/ops_table.py. Nothing between the markers is
edited by hand.

    python docs/gen.py            # rewrite the sections
    python docs/gen.py --check    # exit 1, naming the stale sections, if a page differs

CI runs `--check` (tests/test_docs_gen.py); set FITML_CACHE to keep the builds between runs.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
MODELS = (REPO / ".." / "shared" / "models").resolve()
VWW = MODELS / "mlperf_tiny" / "vww" / "vww_96_int8.tflite"
KWS = MODELS / "mlperf_tiny" / "kws" / "kws_ref_model_int8.tflite"
BOARD = "nucleo-f411re"
TIGHT_RAM = "48K"          # the overflow example: VWW layer by layer in 48 KB of RAM
sys.path.insert(0, str(REPO))      # the checkout's toolchain, whatever is installed
import ops_table  # noqa: E402  (docs/ops_table.py, beside this script)
from toolchain import api  # noqa: E402
from toolchain.backends.cmemory import scratch_free  # noqa: E402
from toolchain.report.compare import compare, render  # noqa: E402
from toolchain.report.text import render_markdown  # noqa: E402

_SECTION = re.compile(r"(<!-- gen:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /gen:(?P=name) -->)",
                      re.S)


def _check(model: Path, **kw):
    return api.check(model, BOARD, **kw)


def ci_summary() -> str:
    """The job summary of `fitml check vww_96_int8.tflite --target nucleo-f411re --format md`:
    its heading, verdict and region table, quoted."""
    text = render_markdown(_check(VWW))
    head = text.split("\n\n- ", 1)[0].rstrip("\n")
    return "".join(f"> {line}".rstrip() + "\n" for line in head.splitlines())


def ci_overflow() -> str:
    """The verdict of the same model on the same board given 48 KB of RAM, layer by layer
    (sizes planned, not measured: no build)."""
    verdict = _check(VWW, ram=TIGHT_RAM, partition="off", measure=False).verdict()
    return (f"For `fitml check vww_96_int8.tflite --target {BOARD} --ram {TIGHT_RAM} "
            f"--partition off --no-measure` it reads\n`{verdict}`.\n")


def pr_comment() -> str:
    """`--baseline` in Markdown: KWS on the board as the default plan builds it, against the
    report of its `--memory small` plan (two real, measured reports)."""
    with scratch_free(True):
        old = _check(KWS).to_dict()
    new = _check(KWS).to_dict()
    return (f"For `fitml check kws_ref_model_int8.tflite --target {BOARD} --format md "
            "--baseline main.json`, where main.json is the `--memory small` report of the same "
            "model, the comment ends with:\n\n" + render(compare(old, new), True, "main.json"))


def schema_example() -> str:
    """The KWS fit report on the board, abridged: every top-level field, the first op."""
    d = _check(KWS).to_dict()
    d["measured"]["method"] = "..."
    d["ops"] = d["ops"][:1]
    d["ops"][0]["output"] = d["ops"][0]["output"].split(";")[0] + ";..."   # TFLite's long name
    d["dsp_layouts"]["layers"] = d["dsp_layouts"]["layers"][:1]
    return "```json\n" + compact(d) + "\n```\n"


def compact(value, indent: str = "", width: int = 96) -> str:
    """JSON, indented, with every object or array that fits `width` columns on one line."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(indent) + len(flat) <= width or not isinstance(value, (dict, list)) or not value:
        return flat
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {compact(v, inner, width).lstrip()}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    items = [inner + compact(v, inner, width) for v in value]
    return "[\n" + ",\n".join(items) + f"\n{indent}]"


SECTIONS = {"ci-summary": ci_summary, "ci-overflow": ci_overflow, "pr-comment": pr_comment,
            "schema-example": schema_example, "ops-table": ops_table.markdown}
PAGES = ("ci.md", "report-schema.md", "ops.md")


def regenerate(text: str, made: dict[str, str]) -> str:
    def body(match: re.Match) -> str:
        name = match.group("name")
        if name not in SECTIONS:
            raise SystemExit(f"docs/gen.py: unknown section {name!r}")
        if name not in made:
            made[name] = SECTIONS[name]()
        return match.group(1) + made[name] + match.group(4)
    return _SECTION.sub(body, text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare instead of writing; exit 1 when a page is stale")
    args = parser.parse_args(argv)
    made: dict[str, str] = {}
    stale = []
    for page in PAGES:
        path = DOCS / page
        old = path.read_text()
        new = regenerate(old, made)
        if new != old:
            stale.append(page)
            if not args.check:
                path.write_text(new)
    missing = sorted(set(SECTIONS) - set(made))
    if missing:
        print(f"docs/gen.py: no markers for {', '.join(missing)}", file=sys.stderr)
        return 1
    if args.check and stale:
        print(f"docs/gen.py: stale: {', '.join(stale)} (run python docs/gen.py)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
