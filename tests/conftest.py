"""Shared fixtures: where the shared real models live, seeded RNGs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_MODELS = (REPO / ".." / "shared" / "models").resolve()


def shared_model(rel: str) -> Path:
    """Path of a model under ../shared/models; the test is skipped (with the path) if absent."""
    path = SHARED_MODELS / rel
    if not path.exists():
        pytest.skip(f"shared model missing: {path}")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
