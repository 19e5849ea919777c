"""Kiosk heartbeat (issue 23 item 4): the kiosk page reports it is alive; bad input or a non-kiosk credential
is a 4xx that writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from kiosk.models import Kiosk
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/kiosk/heartbeat/"


def _row(kiosk: Kiosk) -> tuple:
    kiosk.refresh_from_db()
    return kiosk.last_contact_at, kiosk.last_error, kiosk.last_error_at


def test_heartbeat_records_last_contact_and_error(api, kiosk):
    assert reverse("kiosk-api:heartbeat") == URL
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), tick=False):
        assert api.post(URL, {"error": "Camera not found"}, format="json").status_code == 200
    assert _row(kiosk)[1:] == ("Camera not found", dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 1, tzinfo=dt.UTC), tick=False):
        assert api.post(URL, {}, format="json").status_code == 200
    contact, error, error_at = _row(kiosk)
    assert contact == dt.datetime(2026, 12, 7, 9, 1, tzinfo=dt.UTC)
    assert error == "" and error_at == dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)  # recovered, when kept


@pytest.mark.parametrize(
    "body",
    [
        {"error": "x" * 201},
        {"error": 12},
        {"error": ["a"]},
        {"error": "line\nbreak"},
        {"error": "ok", "last_contact_at": "2020-01-01T00:00:00Z"},
        ["not", "an", "object"],
    ],
    ids=["too_long", "number", "list", "control_char", "unknown_field", "array"],
)
def test_heartbeat_refuses_bad_input_and_writes_nothing(api, kiosk, body):
    before = _row(kiosk)
    answer = api.post(URL, body, format="json")
    assert answer.status_code == 400
    assert _row(kiosk) == before == (None, "", None)


def test_heartbeat_refuses_non_kiosk_credentials(kiosk, administrator):
    anonymous = APIClient()
    assert anonymous.post(URL, {}, format="json").status_code == 401
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Kiosk not-a-real-token")
    assert forged.post(URL, {}, format="json").status_code == 401
    staff = APIClient()
    staff.force_login(administrator)
    assert staff.post(URL, {}, format="json").status_code in (401, 403)
    customer = APIClient()
    customer.force_login(UserFactory(username="someone", is_staff=False))
    assert customer.post(URL, {}, format="json").status_code in (401, 403)
    assert _row(kiosk) == (None, "", None)


def test_heartbeat_is_only_a_post(api, kiosk):
    assert api.get(URL).status_code == 405
    assert _row(kiosk)[0] is None
