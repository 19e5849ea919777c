"""Issue 23 item 3: "Do you need more time?" restarts the idle timer; it never extends the session limit and
never revives an ended session."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kiosk.models import KioskSession
from tests.kiosk.factories import KioskSessionFactory

pytestmark = pytest.mark.django_db


def test_keepalive_restarts_the_idle_timer(api, kiosk, settings):
    settings.KIOSK_IDLE_TIMEOUT_S = 60
    quiet = timezone.now() - dt.timedelta(seconds=50)
    session = KioskSessionFactory(kiosk=kiosk, created_at=quiet, last_activity_at=quiet)
    response = api.post(f"/api/kiosk/sessions/{session.public_id}/keepalive/", format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["seconds_left"]["idle"] >= 55
    session.refresh_from_db()
    assert session.last_activity_at > quiet  # type: ignore[operator]


def test_keepalive_does_not_revive_an_ended_session(api, kiosk):
    session = KioskSessionFactory(kiosk=kiosk, state=KioskSession.State.ENDED, end_reason="customer")
    before = session.last_activity_at
    response = api.post(f"/api/kiosk/sessions/{session.public_id}/keepalive/", format="json")
    assert response.status_code == 409
    session.refresh_from_db()
    assert session.last_activity_at == before


def test_another_kiosks_session_is_not_found(api, kiosk):
    session = KioskSessionFactory()
    assert api.post(f"/api/kiosk/sessions/{session.public_id}/keepalive/", format="json").status_code == 404
