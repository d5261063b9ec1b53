"""The measured numbers of docs/ci.md and docs/report-schema.md are docs/gen.py's output: a
change that moves a number (code size, stack, instructions, a verdict) must regenerate them; so
is the operator table of docs/ops.md (a new op, kernel or frontend mapping regenerates it)."""
from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO, shared_model


def test_committed_docs_equal_the_generators_output():
    shared_model("mlperf_tiny/vww/vww_96_int8.tflite")      # fails clearly when absent
    proc = subprocess.run([sys.executable, str(REPO / "docs" / "gen.py"), "--check"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr + "\n(run: python docs/gen.py)"


def test_the_ci_example_installs_no_placeholder_and_caches_builds():
    text = (REPO / "docs" / "ci.md").read_text()
    assert "YOUR-ORG" not in text and "git+https://" not in text
    assert "FITML_CACHE" in text and "actions/cache" in text


def ops_table():
    sys.path.insert(0, str(REPO / "docs"))
    try:
        import ops_table as module  # docs/ops_table.py, the generator of docs/ops.md's table
    finally:
        sys.path.remove(str(REPO / "docs"))
    return module


def test_ops_page_table_is_current():
    text = (REPO / "docs" / "ops.md").read_text()
    found = re.search(r"<!-- gen:ops-table -->\n(.*?)<!-- /gen:ops-table -->", text, re.S)
    assert found, "docs/ops.md lost its gen:ops-table markers"
    assert found.group(1) == ops_table().markdown(), "docs/ops.md is stale (python docs/gen.py)"


def test_ops_table_has_a_row_per_registered_op_and_is_linked():
    from toolchain.ops import registry

    rows = {r[0]: r for r in ops_table().rows()}
    assert sorted(rows) == registry.supported()
    bmm = rows["BATCH_MATMUL"]
    assert bmm[1:4] == ["float32, int8, int16", "float32, int8, int16", "—"], bmm
    assert "`MatMul`" in bmm[5] and "`bmm`" in bmm[6], bmm
    assert "`MatMul`" in rows["FULLY_CONNECTED"][5] and "int8 (DSP)" in rows["FULLY_CONNECTED"][3]
    assert "docs/ops.md" in (REPO / "README.md").read_text()
