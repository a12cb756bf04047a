"""Shared fixtures: the ../shared/data folder (skipped with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STATCODGEN_MIRROR") or (ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to the folder of real public files (``../shared/data``); skips when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"real data folder {SHARED} not found (set STATCODGEN_MIRROR or place shared/ beside the repo)")
    return SHARED


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
