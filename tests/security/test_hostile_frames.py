"""Hostile camera frames and frame protocol at the kiosk: a clear 4xx with a reason, never a 500, and
nothing written (a picture of every row count, balance, cassette and session before and after)."""

from __future__ import annotations

import json
import uuid

import pytest
from rest_framework.test import APIClient

from kiosk.services.credentials import (
    kiosk_credential_rotate,
)
from tests.factories import KioskFactory
from tests.kiosk.conftest import jpeg_frame

from .helpers import (
    HOSTILE_IMAGES,
    SESSION_ENDPOINTS,
    assert_nothing_written,
    db_picture,
    good_jpeg,
    refused,
    session_call,
)

pytestmark = pytest.mark.django_db

# --- Frames: bytes that are not a usable image ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE_IMAGES))
def test_hostile_frame_is_refused_and_writes_nothing(started, name):
    before = db_picture()
    body = refused(started.frame(HOSTILE_IMAGES[name]), 400)
    assert body["code"].startswith("frame_"), body
    assert_nothing_written(before)


def test_decompression_bomb_is_refused_by_its_header(started):
    before = db_picture()
    body = refused(started.frame(HOSTILE_IMAGES["png_bomb_30000"]), 400)
    assert body["code"] == "frame_too_large"
    assert "pixels" in body["detail"]
    assert_nothing_written(before)


@pytest.mark.parametrize("limit_name", ["KIOSK_FRAME_MAX_BYTES", "DATA_UPLOAD_MAX_MEMORY_SIZE"])
def test_oversized_frame_is_a_413(started, settings, limit_name):
    # Real sizes (2 MB frame limit; 12 MB body limit) — the test sends one byte more than the limit.
    limit = getattr(settings, limit_name)
    before = db_picture()
    body = refused(started.frame(b"\xff\xd8\xff\xe0" + b"0" * limit), 413)
    assert body["code"] == "frame_too_large"
    assert_nothing_written(before)


def test_oversized_form_field_isrefused(started, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = db_picture()
    response = started.frame(good_jpeg(5), nonce="n" * 20_000)
    refused(response, 400, 413)
    assert_nothing_written(before)


@pytest.mark.parametrize(
    "path", ["/api/kiosk/sessions/", "/api/accounts/customers/", "/api/kiosk/sessions/{sid}/otp/verify/"]
)
def test_json_body_over_the_upload_limit_isrefused(started, teller_client, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = teller_client if "accounts" in path else started.client
    body = json.dumps({"card_number": "4" * 30_000, "full_name": "x" * 30_000, "phone": "+447700900123"})
    before = db_picture()
    response = client.post(path.format(sid=started.sid), body, content_type="application/json")
    refused(response, 400, 413)
    assert_nothing_written(before)


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/json", json.dumps({"frame": "AAAA", "nonce": "n", "seq": 1})),
        ("text/plain", "frame=AAAA"),
        ("application/xml", "<frame>AAAA</frame>"),
        ("image/jpeg", "\xff\xd8\xff"),
        ("multipart/form-data", "--x\r\nnot really multipart"),
        ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data\r\n\r\nbroken"),
    ],
)
def test_frame_with_a_wrong_content_type_isrefused(started, content_type, payload):
    before = db_picture()
    response = started.client.post(
        f"/api/kiosk/sessions/{started.sid}/frames/", payload, content_type=content_type
    )
    refused(response, 400, 415)
    assert_nothing_written(before)


@pytest.mark.parametrize(
    ("path", "content_type", "payload"),
    [
        ("/api/kiosk/sessions/", "text/plain", "card_number=4111111111111111"),
        ("/api/kiosk/sessions/", "application/json", "{not json"),
        ("/api/kiosk/sessions/", "application/json", '["a", "list"]'),
        ("/api/kiosk/sessions/", "application/json", '{"card_number": {"$ne": null}}'),
        ("/api/kiosk/sessions/", "application/json", '{"card_number": ["4111111111111111"]}'),
        ("/api/kiosk/sessions/", "application/json", '{"track2": {"$ne": null}}'),
        (
            "/api/kiosk/sessions/",
            "application/json",
            '{"card_number": "4111111111111111", "expiry": [12, 30]}',
        ),
        ("/api/kiosk/sessions/", "application/json", '{"track2": ";4111111111111111=3012?\\u0000"}'),
        ("/api/kiosk/sessions/{sid}/otp/verify/", "application/xml", "<code>1</code>"),
        ("/api/kiosk/sessions/{sid}/otp/verify/", "application/json", '{"code": 123456.5}'),
        (
            "/api/kiosk/sessions/{sid}/withdrawals/",
            "application/json",
            '{"amount": [20], "idempotency_key": 1}',
        ),
        ("/api/kiosk/sessions/{sid}/withdrawals/", "text/csv", "amount,20"),
        ("/api/kiosk/sessions/{sid}/deposits/", "application/json", '{"amount": {"a": 1}}'),
        ("/api/kiosk/sessions/{sid}/cash-in/", "application/json", '{"notes": {"20": 1e400}}'),
        ("/api/kiosk/sessions/{sid}/cash-in/", "application/json", '{"notes": {"20": NaN}}'),
        ("/api/kiosk/sessions/{sid}/cash-in/", "application/json", '{"notes": [[20, 1]]}'),
        ("/api/kiosk/sessions/{sid}/cash-in/", "text/plain", "20x1"),
    ],
)
def test_malformed_json_bodies_arerefused(started, path, content_type, payload):
    before = db_picture()
    response = started.client.post(path.format(sid=started.sid), payload, content_type=content_type)
    refused(response, 400, 403, 404, 409, 415)  # 403: the kiosk credential cannot report notes at all
    assert_nothing_written(before)


# --- Frame protocol: nonce, sequence, replay, ended sessions -------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"nonce": "forged-nonce"}, 400, "frame_nonce"),
        ({"nonce": ""}, 400, "invalid"),
        ({"seq": 0}, 400, "invalid"),
        ({"seq": -1}, 400, "invalid"),
        ({"seq": 2}, 409, "frame_sequence"),
        ({"seq": 10_000_001}, 400, "invalid"),
        ({"seq": "1; DROP TABLE kiosk_kiosksession"}, 400, "invalid"),
    ],
)
def test_frame_protocol_violations(started, change, status, code):
    before = db_picture()
    body = refused(started.frame(**change), status)
    assert body["code"] == code
    assert_nothing_written(before)


def test_replayed_frame_is_refused_even_with_the_next_sequence_number(started):
    frame = jpeg_frame()
    assert started.frame(frame).status_code == 200
    before = db_picture()
    assert refused(started.frame(frame), 400)["code"] == "frame_replayed"
    # The same request sent again as is (same seq): out of order.
    assert refused(started.frame(frame, seq=1), 409)["code"] == "frame_sequence"
    assert_nothing_written(before)


def test_nonce_of_another_session_does_not_work(started, bob_card):
    old_nonce, old_sid = started.session["frame_nonce"], started.sid
    from tests.factories import make_pan

    started.start(make_pan(2))  # replaces Alice's session at this kiosk
    before = db_picture()
    assert refused(started.frame(nonce=old_nonce), 400)["code"] == "frame_nonce"
    started.session = {**started.session, "id": old_sid}
    assert refused(started.frame(), 409)["code"] == "session_ended"
    assert_nothing_written(before)


# The kiosk credential never reports notes: cash-in/ is always 403, simulated-cash-in/ 404 out of development.
NOTES_NEVER_FROM_A_KIOSK = {"cash-in/": 403, "simulated-cash-in/": 404}


@pytest.mark.parametrize(("method", "action"), [e for e in SESSION_ENDPOINTS if e[0] == "post"])
def test_ended_session_accepts_nothing(started, method, action):
    assert started.post("end").status_code == 200
    before = db_picture()
    response = session_call(started.client, method, f"/api/kiosk/sessions/{started.sid}/{action}", action)
    if action == "end/":
        assert response.status_code == 200 and response.json()["state"] == "ended"
    elif action in NOTES_NEVER_FROM_A_KIOSK:
        refused(response, NOTES_NEVER_FROM_A_KIOSK[action])
    else:
        refused(response, 400, 409)
    assert_nothing_written(before)


@pytest.mark.parametrize(("method", "action"), SESSION_ENDPOINTS)
def test_another_kiosks_session_is_invisible(started, method, action):
    _credential, token = kiosk_credential_rotate(kiosk=KioskFactory(name="Intruder"), actor=None)
    intruder = APIClient()
    intruder.credentials(HTTP_AUTHORIZATION=f"Kiosk {token}")
    before = db_picture()
    response = session_call(intruder, method, f"/api/kiosk/sessions/{started.sid}/{action}", action)
    if action in NOTES_NEVER_FROM_A_KIOSK:  # the same answer for every session id: nothing to learn
        refused(response, NOTES_NEVER_FROM_A_KIOSK[action])
    else:
        assert refused(response, 404)["code"] == "session_not_found"
    assert_nothing_written(before)


@pytest.mark.parametrize("session_id", ["not-a-uuid", str(uuid.uuid4()), "' OR 1=1 --", "%00", "a" * 300])
def test_unknown_session_ids_are_404(api, db, session_id):
    before = db_picture()
    assert refused(api.get(f"/api/kiosk/sessions/{session_id}/"), 404)["code"] == "session_not_found"
    assert_nothing_written(before)
