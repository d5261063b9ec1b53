"""README.md's measured tables are the output of the benchmarks their markers name
(docs/gen_readme.py): a change that moves an instruction count or a byte must regenerate them.
One test per section, so parallel workers share the QEMU runs. Timing sections short enough
for CI (PTQ vs the converter: about 30 s; Scale: about a minute) are rerun too: every cell
equal but the timings and peak memory (within gen_readme.TIME_FACTOR) and the growth
exponents (within gen_readme.EXPONENT_SLACK) of the committed ones."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO, shared_model

sys.path.insert(0, str(REPO / "docs"))
from gen_readme import README, measured_differences, sections  # noqa: E402

EXACT = [s.name for s in sections(README.read_text()) if not s.measured]
TIMED_IN_CI = ["ptq", "scale"]   # ~30 s and ~1 min: PTQ vs the converter, the Scale profile


def test_every_table_with_numbers_has_a_generator():
    assert {"speed", "cores", "partition", "int16", "mobilenet"} <= set(EXACT), EXACT


@pytest.mark.parametrize("name", EXACT)
def test_committed_readme_section_equals_its_benchmarks_output(name):
    shared_model("mlperf_tiny/kws/kws_ref_model_int8.tflite")   # fails clearly when absent
    proc = subprocess.run([sys.executable, str(REPO / "docs" / "gen_readme.py"), "--check",
                           "--only", name], capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stderr[-6000:] + "\n(run: python docs/gen_readme.py)"


@pytest.mark.parametrize("name", TIMED_IN_CI)
def test_committed_timing_section_agrees_with_a_rerun(name):
    proc = subprocess.run([sys.executable, str(REPO / "docs" / "gen_readme.py"), "--check",
                           "--measured", "--only", name], capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, proc.stderr[-6000:] + "\n(run: python docs/gen_readme.py)"


TABLE = "| model | top-1 % | convert s |\n|---|---:|---:|\n| a | 94.2 | 0.87 |\n"


@pytest.mark.parametrize("now,bad", [
    ("| a | 94.2 | 0.87 |", []), ("| a | 94.2 | 2.10 |", []), ("| a | 94.2 | 0.30 |", []),
    ("| a | 94.3 | 0.87 |", ["line 3, cell 2: '94.2' -> '94.3'"]),
    ("| a | 94.2 | 9.00 |", ["line 3, cell 3: '0.87' -> '9.00'"]),
    ("| b | 94.2 | 0.87 |", ["line 3, cell 1: 'a' -> 'b'"])])
def test_a_timing_section_may_differ_only_in_its_timings(now, bad):
    new = TABLE.rsplit("| a", 1)[0] + now + "\n"
    assert measured_differences(TABLE, new) == bad


GROWTH = ("| model | compile s | peak MB |\n|---|---:|---:|\n| m | 0.70 s | 75 MB |\n\n"
          "| stage | exponent |\n|---|---:|\n| check | 0.24 |\n")


@pytest.mark.parametrize("old,new,bad", [
    ("75 MB", "120 MB", []), ("75 MB", "300 MB", ["line 3, cell 3: '75 MB' -> '300 MB'"]),
    ("0.24 |", "0.60 |", []), ("0.24 |", "1.30 |", ["line 7, cell 2: '0.24' -> '1.30'"]),
    ("0.24 |", "-0.05 |", []),
    ("| m |", "| n |", ["line 3, cell 1: 'm' -> 'n'"])])
def test_memory_and_exponent_columns_have_their_own_tolerance(old, new, bad):
    assert measured_differences(GROWTH, GROWTH.replace(old, new)) == bad
