"""Fixtures of the benchmark smoke tests: tiny photo folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.photos import SPEED_PHOTOS, photo_subset


@pytest.fixture
def speed_faces_dir(faces_dir: Path, tmp_path: Path) -> Path:
    return photo_subset(faces_dir, tmp_path / "faces", SPEED_PHOTOS)
