"""Hostile kiosk credentials, card reads, codes, amounts and keys: a clear 4xx with a reason, never a 500,
and nothing written (a picture of every row count, balance, cassette and session before and after)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from rest_framework.test import APIClient

from kiosk.services.credentials import (
    kiosk_credential_revoke,
    kiosk_credential_rotate,
)
from tests.kiosk.conftest import card_expiry_of

from .helpers import (
    INJECTION_STRINGS,
    SESSION_ENDPOINTS,
    assert_nothing_written,
    db_picture,
    refused,
    session_call,
)

pytestmark = pytest.mark.django_db

# --- Kiosk credentials ---------------------------------------------------------------------------------


def _credential_headers(kind: str, kiosk, kiosk_token: str) -> dict[str, str]:
    if kind == "revoked":
        kiosk_credential_revoke(kiosk=kiosk, actor=None)
        return {"HTTP_AUTHORIZATION": f"Kiosk {kiosk_token}"}
    if kind == "rotated_away":
        kiosk_credential_rotate(kiosk=kiosk, actor=None)
        return {"HTTP_AUTHORIZATION": f"Kiosk {kiosk_token}"}
    return {
        "missing": {},
        "forged": {"HTTP_AUTHORIZATION": "Kiosk " + "A" * 43},
        "empty": {"HTTP_AUTHORIZATION": "Kiosk "},
        "huge": {"HTTP_AUTHORIZATION": "Kiosk " + "A" * 10_000},
        "sql": {"HTTP_AUTHORIZATION": "Kiosk ' OR '1'='1"},
        "other_scheme": {"HTTP_AUTHORIZATION": f"Bearer {kiosk_token}"},
        "lowercase_scheme": {"HTTP_AUTHORIZATION": f"kiosk {kiosk_token}"},
        "forged_cookie": {"HTTP_COOKIE": "kiosk_credential=" + "B" * 43},
    }[kind]


CREDENTIAL_KINDS = [
    "missing",
    "forged",
    "empty",
    "huge",
    "sql",
    "other_scheme",
    "lowercase_scheme",
    "forged_cookie",
    "revoked",
    "rotated_away",
]
ALL_KIOSK_ENDPOINTS = [("get", "/api/kiosk/me/", "me"), ("post", "/api/kiosk/sessions/", "start")] + [
    (method, "/api/kiosk/sessions/{sid}/" + action, action) for method, action in SESSION_ENDPOINTS
]


@pytest.mark.parametrize("kind", CREDENTIAL_KINDS)
@pytest.mark.parametrize(("method", "path", "action"), ALL_KIOSK_ENDPOINTS)
def test_kiosk_endpoints_refuse_bad_credentials(started, kiosk, kiosk_token, kind, method, path, action):
    headers = _credential_headers(kind, kiosk, kiosk_token)
    client = APIClient()
    before = db_picture()
    url = path.format(sid=started.sid)
    if action == "start":
        response = client.post(url, {"card_number": "4111111111111111"}, format="json", **headers)
    else:
        response = session_call(client, method, url, action, **headers)
    assert refused(response, 401, 403)["code"] in {"not_authenticated", "authentication_failed"}
    assert_nothing_written(before)


def test_staff_session_is_not_a_kiosk(teller_client, started):
    before = db_picture()
    response = teller_client.post(f"/api/kiosk/sessions/{started.sid}/end/")
    refused(response, 401, 403)
    assert_nothing_written(before)


# --- Injection in kiosk inputs -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["card_number", "expiry", "track2"])
@pytest.mark.parametrize("value", INJECTION_STRINGS)
def test_injection_in_the_card_read(api, kiosk, alice_card, alice_pan, field, value):
    payload = {"track2": value} if field == "track2" else {"card_number": alice_pan, "expiry": "12/30"}
    payload[field] = value
    before = db_picture()
    body = refused(api.post("/api/kiosk/sessions/", payload, format="json"), 400, 404)
    assert body["code"] in {"card_invalid", "card_read_invalid", "invalid"}
    assert value not in json.dumps(body) or len(value) < 3
    assert_nothing_written(before)


@pytest.mark.parametrize(
    "payload",
    [
        {"card_number": "PAN"},  # no expiry
        {"card_number": "PAN", "expiry": "OTHER"},  # the wrong expiry
        {"card_number": "PAN", "expiry": "13/30"},
        {"card_number": "PAN", "expiry": "1230"},
        {"card_number": "PAN", "expiry": "12/30", "track2": ";PAN=3012?"},  # both ways at once
        {"track2": ";PAN=30?"},
        {"track2": ";PAN=3012" + "9" * 60 + "?"},
        {"track2": "%BPAN^ARCHER/ALICE^3012?"},  # track 1 is not what the reader should send
        {"track2": ";" + "4" * 19 + "=3012?"},  # an unknown card
    ],
)
def test_card_reads_that_are_not_the_card_are_refused_and_write_nothing(
    api, kiosk, alice_card, alice_pan, payload
):
    other = (alice_card.expires_on.replace(day=1) - dt.timedelta(days=1)).strftime("%m/%y")
    payload = {key: value.replace("PAN", alice_pan).replace("OTHER", other) for key, value in payload.items()}
    before = db_picture()
    body = refused(api.post("/api/kiosk/sessions/", payload, format="json"), 400, 404)
    assert body["code"] in {"card_read_invalid", "card_unknown", "invalid", "card_invalid"}
    assert alice_pan not in json.dumps(body)
    assert_nothing_written(before)


def test_throttled_card_reads_are_a_clear_429_and_write_nothing(api, kiosk, alice_card, alice_pan, settings):
    settings.KIOSK_CARD_READ_FAILURES = 2
    wrong = {"card_number": alice_pan, "expiry": "01/20"}
    for _ in range(2):
        refused(api.post("/api/kiosk/sessions/", wrong, format="json"), 404)
    before = db_picture()
    right = {"card_number": alice_pan, "expiry": card_expiry_of(alice_pan)}
    body = refused(api.post("/api/kiosk/sessions/", right, format="json"), 429)
    assert body["code"] == "card_reads_throttled"
    assert_nothing_written(before)


@pytest.mark.parametrize("value", [*INJECTION_STRINGS, "12345", "1234567", "12 456", "１２３４５６"])
def test_injection_in_the_otp_code(started, face_script, outbox, value):
    face_script.play("several_faces")
    started.frame()
    assert started.post("otp").status_code == 200
    before = db_picture()
    body = refused(started.post("otp/verify", {"code": value}), 400)
    assert body["code"] in {"otp_format", "invalid"}
    assert_nothing_written(before)


@pytest.mark.parametrize(
    "amount",
    [*INJECTION_STRINGS, "NaN", "Infinity", "-Infinity", "1e400", "-20", "0", "0x14", "20.001", "", " "],
)
@pytest.mark.parametrize("operation", ["withdrawals", "deposits"])
def test_injection_in_money_amounts(started, operation, amount):
    started.verify_face()
    before = db_picture()
    response = started.post(
        operation, {"amount": amount, "idempotency_key": f"hostile-{uuid.uuid4().hex[:12]}"}
    )
    refused(response, 400)
    assert_nothing_written(before)


@pytest.mark.parametrize("key", ["", "short", "k" * 65, "x" * 5000, None])
def test_bad_idempotency_keys(started, key):
    started.verify_face()
    before = db_picture()
    payload = {"amount": "20"} if key is None else {"amount": "20", "idempotency_key": key}
    refused(started.post("withdrawals", payload), 400)
    assert_nothing_written(before)
