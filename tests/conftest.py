"""Shared fixtures: where the shared real models live, seeded RNGs, the C runtime as a host
library (built once per session for the tests/test_c_kernels_*.py files)."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_MODELS = (REPO / ".." / "shared" / "models").resolve()


def shared_model(rel: str) -> Path:
    """Path of a model under ../shared/models. CI has them at that relative path, so an absent
    one fails the test (a skip would turn a broken checkout green)."""
    path = SHARED_MODELS / rel
    if not path.exists():
        pytest.fail(f"shared model missing: {path} (the tests read ../shared/models beside "
                    "the checkout)")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def lib(tmp_path_factory):
    """The C runtime with the support-math shim, as a host shared library with UBSan
    (tests/ckernels.py); test files with a library of their own define their own `lib`."""
    from ckernels import shim_library   # a test helper: imported only by the tests that use it
    return shim_library(tmp_path_factory.mktemp("cruntime"))


@pytest.fixture(scope="module")
def pool():
    """One spawned child per test module for LiteRT (or another oracle that may crash): a
    crash in its kernels fails a test, not the session."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor
