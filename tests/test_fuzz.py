"""Fuzz fitml's model loading: mutated .tflite, .onnx, .h5, .keras and .pt2 models (bit flips,
truncation, junk, and structure-aware edits: shapes, indices, quantization, attributes,
configs, zip members, code-carrying payloads) through `fitml inspect`, and a few accepted
ones through `fitml check --target cortex-m4`.

Every run must end in exit 0/1 or one clear error line naming the file: no internal error,
traceback, signal, timeout (60 s), allocation failure (2 GB budget) or code from the model
running. Fixed seeds, 50 cases per format, in a fork server (tests/fuzz_harness.py; the
full-size run with a table is benchmarks/fuzz.py).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import fuzz_seeds
from fuzz_harness import FAILURES, Fuzzer, failure_report
from fuzz_seeds import FORMATS

CASES, CHECKS = 50, 3


@pytest.fixture(scope="session")
def fuzzer(tmp_path_factory):
    # xdist workers share the seeds; a change to the generators makes new ones
    version = hashlib.sha1(Path(fuzz_seeds.__file__).read_bytes()).hexdigest()[:12]
    shared = tmp_path_factory.getbasetemp().parent / f"fuzz-seeds-{version}"
    return Fuzzer(tmp_path_factory.mktemp("fuzz"), FORMATS, jobs=2, seeds_dir=shared)


@pytest.mark.parametrize("fmt", FORMATS)
def test_mutated_models_fail_cleanly(fuzzer, fmt):
    cases = fuzzer.run(fmt, range(CASES), check_sample=CHECKS, sanity=False)
    failures = [failure_report(c, verb) for c in cases for verb, (outcome, _, _) in
                c.runs.items() if outcome in FAILURES]
    assert not failures, f"{len(failures)} of {CASES} {fmt} cases failed:\n" + \
        "\n".join(failures)


# Cases the full-size run (benchmarks/fuzz.py 1000) found, kept so they stay fixed.
FOUND = {"onnx": [548, 803],    # Conv strides of rank 3; an input's elem_type not in ONNX
         }


@pytest.mark.parametrize("fmt", sorted(FOUND))
def test_cases_the_long_runs_found_stay_fixed(fuzzer, fmt):
    seeds = FOUND[fmt]
    cases = fuzzer.run(fmt, seeds, check_sample=len(seeds), sanity=False)
    failures = [failure_report(c, verb) for c in cases for verb, (outcome, _, _) in
                c.runs.items() if outcome in FAILURES]
    assert not failures, "\n".join(failures)
    assert all("check" in c.runs or c.runs["inspect"][0] != "ok" for c in cases)
