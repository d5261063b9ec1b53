"""README.md's measured tables are the output of the benchmarks their markers name
(docs/gen_readme.py): a change that moves an instruction count or a byte must regenerate them.
One test per section, so parallel workers share the QEMU runs."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO, shared_model

sys.path.insert(0, str(REPO / "docs"))
from gen_readme import README, sections  # noqa: E402

EXACT = [s.name for s in sections(README.read_text()) if not s.measured]


def test_every_table_with_numbers_has_a_generator():
    assert {"speed", "cores", "partition", "int16", "mobilenet"} <= set(EXACT), EXACT


@pytest.mark.parametrize("name", EXACT)
def test_committed_readme_section_equals_its_benchmarks_output(name):
    shared_model("mlperf_tiny/kws/kws_ref_model_int8.tflite")   # fails clearly when absent
    proc = subprocess.run([sys.executable, str(REPO / "docs" / "gen_readme.py"), "--check",
                           "--only", name], capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stderr[-6000:] + "\n(run: python docs/gen_readme.py)"
