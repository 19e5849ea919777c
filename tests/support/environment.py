"""Where the optional parts of the suite come from, and what happens when they are missing.

On a laptop a missing PostgreSQL, Redis, Chromium or photo folder skips the tests that need it, with the
reason. Under CI=true nothing may be skipped for that reason: the test fails instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip on a laptop, fail under CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this part must run)", pytrace=False)
    pytest.skip(reason)


def faces_dir() -> Path:
    from django.conf import settings

    path = settings.ATM_FACES_DIR
    if not (path / "MANIFEST.csv").is_file():
        unavailable(f"real face photos not found at {path} (set ATM_FACES_DIR)")
    return path


def chromium_path() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    unavailable("Debian chromium is not installed (apt-get install chromium chromium-driver)")
    raise AssertionError("unreachable")


def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        unavailable("TEST_REDIS_URL is not set: Redis / real Celery worker tests skipped")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"Redis at {url} does not answer: {error}")
    return url


def models_dir(*keys: str) -> Path:
    """ATM_MODELS_DIR when the named model files (all pinned files by default) are there and intact."""
    from django.conf import settings

    from biometrics.model_files import MODEL_FILES, model_files_problems

    problems = model_files_problems(keys or tuple(MODEL_FILES))
    if problems:
        unavailable(f"model files not usable (set ATM_MODELS_DIR): {'; '.join(problems)}")
    return Path(settings.ATM_MODELS_DIR)
