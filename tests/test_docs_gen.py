"""The measured numbers of docs/ci.md and docs/report-schema.md are docs/gen.py's output: a
change that moves a number (code size, stack, instructions, a verdict) must regenerate them."""
from __future__ import annotations

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
