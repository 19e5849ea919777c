"""Reuse the browser harness of tests/browser (package-scoped Playwright, fake camera files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import browser_factory, camera_file, chromium_launcher

__all__ = ["browser_factory", "camera_file", "chromium_launcher"]

BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
