"""The portal's browser tests use the shared Chromium launcher (tests/browser/conftest.py): Debian Chromium
through Playwright, skipped with a message without it (failing under CI=true)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import browser_factory, chromium_launcher

__all__ = ["browser_factory", "chromium_launcher"]

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
