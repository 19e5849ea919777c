"""The settings write some biometrics defaults out instead of importing them (loading the settings must not
load app code): these tests keep each copy equal to its source."""

from __future__ import annotations

import re
from pathlib import Path

from biometrics.liveness.state import CHALLENGE_TIME_LIMIT_SECONDS

SETTINGS = Path(__file__).resolve().parents[2] / "atmsite" / "settings" / "biometrics.py"


def test_the_liveness_time_limit_default_is_the_challenge_time_limit() -> None:
    found = re.search(r'env\.float\("LIVENESS_TIME_LIMIT_S", default=([0-9.]+)\)', SETTINGS.read_text())
    assert found, "LIVENESS_TIME_LIMIT_S has no literal default in atmsite/settings/biometrics.py"
    assert float(found.group(1)) == CHALLENGE_TIME_LIMIT_SECONDS
