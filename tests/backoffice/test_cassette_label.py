from __future__ import annotations

from kiosk.models import Cassette


def test_cassette_reads_denomination_then_count():
    assert str(Cassette(denomination=50, count=200)) == "50 × 200 notes"
