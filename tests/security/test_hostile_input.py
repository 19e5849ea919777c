"""Hostile input at every kiosk, staff and enrolment endpoint: a clear 4xx with a reason, never a 500, and
nothing written (a picture of every row count, balance, cassette and session before and after)."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Customer
from kiosk.models import KioskProvisioningCode
from kiosk.services.credentials import (
    kiosk_credential_revoke,
    kiosk_credential_rotate,
    kiosk_provisioning_code_create,
)
from tests.factories import KioskFactory
from tests.kiosk.conftest import card_expiry_of, jpeg_frame

from .helpers import HOSTILE_IMAGES, INJECTION_STRINGS, assert_nothing_written, db_picture, good_jpeg

pytestmark = pytest.mark.django_db

SESSION_ENDPOINTS = [
    ("get", ""),
    ("post", "frames/"),
    ("post", "otp/"),
    ("post", "otp/verify/"),
    ("get", "balance/"),
    ("post", "withdrawals/"),
    ("post", "deposits/"),
    ("post", "cash-in/"),
    ("post", "deposits/cancel/"),
    ("get", "statement/"),
    ("post", "end/"),
]
SESSION_BODIES = {
    "frames/": None,  # multipart, built per test
    "otp/verify/": {"code": "123456"},
    "withdrawals/": {"amount": "20", "idempotency_key": "hostile-key-0001"},
    "deposits/": {"idempotency_key": "hostile-key-0002"},
    "cash-in/": {"notes": {"20": 1}, "idempotency_key": "hostile-key-0003"},
}


def _refused(response, *statuses: int) -> dict:
    """A clear refusal: a 4xx in the {"code", "detail"} shape (never a 500, never an HTML error page)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if statuses:
        assert response.status_code in statuses, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] and body["detail"], body
    return body


def _call(client, method: str, url: str, action: str, **extra):
    if method == "get":
        return client.get(url, **extra)
    if action == "frames/":
        payload = {"frame": io.BytesIO(jpeg_frame()), "nonce": "x", "seq": 1}
        payload["frame"].name = "f.jpg"
        return client.post(url, payload, format="multipart", **extra)
    return client.post(url, SESSION_BODIES.get(action) or {}, format="json", **extra)


@pytest.fixture
def started(driver, alice_card, alice_pan):
    assert driver.start(alice_pan).status_code == 201
    return driver


# --- Frames: bytes that are not a usable image ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE_IMAGES))
def test_hostile_frame_is_refused_and_writes_nothing(started, name):
    before = db_picture()
    body = _refused(started.frame(HOSTILE_IMAGES[name]), 400)
    assert body["code"].startswith("frame_"), body
    assert_nothing_written(before)


def test_decompression_bomb_is_refused_by_its_header(started):
    before = db_picture()
    body = _refused(started.frame(HOSTILE_IMAGES["png_bomb_30000"]), 400)
    assert body["code"] == "frame_too_large"
    assert "pixels" in body["detail"]
    assert_nothing_written(before)


@pytest.mark.parametrize("limit_name", ["KIOSK_FRAME_MAX_BYTES", "DATA_UPLOAD_MAX_MEMORY_SIZE"])
def test_oversized_frame_is_a_413(started, settings, limit_name):
    # Real sizes (2 MB frame limit; 12 MB body limit) — the test sends one byte more than the limit.
    limit = getattr(settings, limit_name)
    before = db_picture()
    body = _refused(started.frame(b"\xff\xd8\xff\xe0" + b"0" * limit), 413)
    assert body["code"] == "frame_too_large"
    assert_nothing_written(before)


def test_oversized_form_field_is_refused(started, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = db_picture()
    response = started.frame(good_jpeg(5), nonce="n" * 20_000)
    _refused(response, 400, 413)
    assert_nothing_written(before)


@pytest.mark.parametrize(
    "path", ["/api/kiosk/sessions/", "/api/accounts/customers/", "/api/kiosk/sessions/{sid}/otp/verify/"]
)
def test_json_body_over_the_upload_limit_is_refused(started, teller_client, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = teller_client if "accounts" in path else started.client
    body = json.dumps({"card_number": "4" * 30_000, "full_name": "x" * 30_000, "phone": "+447700900123"})
    before = db_picture()
    response = client.post(path.format(sid=started.sid), body, content_type="application/json")
    _refused(response, 400, 413)
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
def test_frame_with_a_wrong_content_type_is_refused(started, content_type, payload):
    before = db_picture()
    response = started.client.post(
        f"/api/kiosk/sessions/{started.sid}/frames/", payload, content_type=content_type
    )
    _refused(response, 400, 415)
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
def test_malformed_json_bodies_are_refused(started, path, content_type, payload):
    before = db_picture()
    response = started.client.post(path.format(sid=started.sid), payload, content_type=content_type)
    _refused(response, 400, 404, 409, 415)
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
    body = _refused(started.frame(**change), status)
    assert body["code"] == code
    assert_nothing_written(before)


def test_replayed_frame_is_refused_even_with_the_next_sequence_number(started):
    frame = jpeg_frame()
    assert started.frame(frame).status_code == 200
    before = db_picture()
    assert _refused(started.frame(frame), 400)["code"] == "frame_replayed"
    # The same request sent again as is (same seq): out of order.
    assert _refused(started.frame(frame, seq=1), 409)["code"] == "frame_sequence"
    assert_nothing_written(before)


def test_nonce_of_another_session_does_not_work(started, bob_card):
    old_nonce, old_sid = started.session["frame_nonce"], started.sid
    from tests.factories import make_pan

    started.start(make_pan(2))  # replaces Alice's session at this kiosk
    before = db_picture()
    assert _refused(started.frame(nonce=old_nonce), 400)["code"] == "frame_nonce"
    started.session = {**started.session, "id": old_sid}
    assert _refused(started.frame(), 409)["code"] == "session_ended"
    assert_nothing_written(before)


@pytest.mark.parametrize(("method", "action"), [e for e in SESSION_ENDPOINTS if e[0] == "post"])
def test_ended_session_accepts_nothing(started, method, action):
    assert started.post("end").status_code == 200
    before = db_picture()
    response = _call(started.client, method, f"/api/kiosk/sessions/{started.sid}/{action}", action)
    if action == "end/":
        assert response.status_code == 200 and response.json()["state"] == "ended"
    else:
        _refused(response, 400, 409)
    assert_nothing_written(before)


@pytest.mark.parametrize(("method", "action"), SESSION_ENDPOINTS)
def test_another_kiosks_session_is_invisible(started, method, action):
    _credential, token = kiosk_credential_rotate(kiosk=KioskFactory(name="Intruder"), actor=None)
    intruder = APIClient()
    intruder.credentials(HTTP_AUTHORIZATION=f"Kiosk {token}")
    before = db_picture()
    response = _call(intruder, method, f"/api/kiosk/sessions/{started.sid}/{action}", action)
    assert _refused(response, 404)["code"] == "session_not_found"
    assert_nothing_written(before)


@pytest.mark.parametrize("session_id", ["not-a-uuid", str(uuid.uuid4()), "' OR 1=1 --", "%00", "a" * 300])
def test_unknown_session_ids_are_404(api, db, session_id):
    before = db_picture()
    assert _refused(api.get(f"/api/kiosk/sessions/{session_id}/"), 404)["code"] == "session_not_found"
    assert_nothing_written(before)


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
        response = _call(client, method, url, action, **headers)
    assert _refused(response, 401, 403)["code"] in {"not_authenticated", "authentication_failed"}
    assert_nothing_written(before)


def test_staff_session_is_not_a_kiosk(teller_client, started):
    before = db_picture()
    response = teller_client.post(f"/api/kiosk/sessions/{started.sid}/end/")
    _refused(response, 401, 403)
    assert_nothing_written(before)


# --- Injection in kiosk inputs -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["card_number", "expiry", "track2"])
@pytest.mark.parametrize("value", INJECTION_STRINGS)
def test_injection_in_the_card_read(api, kiosk, alice_card, alice_pan, field, value):
    payload = {"track2": value} if field == "track2" else {"card_number": alice_pan, "expiry": "12/30"}
    payload[field] = value
    before = db_picture()
    body = _refused(api.post("/api/kiosk/sessions/", payload, format="json"), 400, 404)
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
    body = _refused(api.post("/api/kiosk/sessions/", payload, format="json"), 400, 404)
    assert body["code"] in {"card_read_invalid", "card_unknown", "invalid", "card_invalid"}
    assert alice_pan not in json.dumps(body)
    assert_nothing_written(before)


def test_throttled_card_reads_are_a_clear_429_and_write_nothing(api, kiosk, alice_card, alice_pan, settings):
    settings.KIOSK_CARD_READ_FAILURES = 2
    wrong = {"card_number": alice_pan, "expiry": "01/20"}
    for _ in range(2):
        _refused(api.post("/api/kiosk/sessions/", wrong, format="json"), 404)
    before = db_picture()
    right = {"card_number": alice_pan, "expiry": card_expiry_of(alice_pan)}
    body = _refused(api.post("/api/kiosk/sessions/", right, format="json"), 429)
    assert body["code"] == "card_reads_throttled"
    assert_nothing_written(before)


@pytest.mark.parametrize("value", [*INJECTION_STRINGS, "12345", "1234567", "12 456", "１２３４５６"])
def test_injection_in_the_otp_code(started, face_script, outbox, value):
    face_script.play("several_faces")
    started.frame()
    assert started.post("otp").status_code == 200
    before = db_picture()
    body = _refused(started.post("otp/verify", {"code": value}), 400)
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
    _refused(response, 400)
    assert_nothing_written(before)


@pytest.mark.parametrize("key", ["", "short", "k" * 65, "x" * 5000, None])
def test_bad_idempotency_keys(started, key):
    started.verify_face()
    before = db_picture()
    payload = {"amount": "20"} if key is None else {"amount": "20", "idempotency_key": key}
    _refused(started.post("withdrawals", payload), 400)
    assert_nothing_written(before)


# --- Staff API -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", INJECTION_STRINGS)
def test_injection_in_the_customer_search(teller_client, alice, query):
    response = teller_client.get("/api/accounts/customers/", {"q": query})
    if "\x00" in query:
        assert _refused(response, 400)["code"] == "query_invalid"
        return
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    "payload",
    [
        {"full_name": "x", "phone": "' OR 1=1 --"},
        {"full_name": "x", "phone": "+44<script>"},
        {"full_name": "", "phone": "+447700900123"},
        {"full_name": "x" * 201, "phone": "+447700900123"},
        {"full_name": "x", "phone": "+447700900123", "email": "<script>@x"},
        {"full_name": ["x"], "phone": "+447700900123"},
        {"full_name": {"$gt": ""}, "phone": "+447700900123"},
        {"phone": "+447700900123"},
    ],
)
def test_bad_customers_are_refused(teller_client, payload):
    before = db_picture()
    response = teller_client.post("/api/accounts/customers/", payload, content_type="application/json")
    assert _refused(response, 400)["code"] == "invalid"
    assert_nothing_written(before)


@pytest.mark.parametrize(
    "change",
    [
        {"pan": "' OR 1=1 --"},
        {"pan": "<script>alert(1)</script>"},
        {"pan": "4" * 23},
        {"expires_on": "2099-13-45"},
        {"expires_on": "'; DROP TABLE accounts_card; --"},
        {"customer": "1 OR 1=1"},
        {"account": 10**12},
    ],
)
def test_bad_cards_are_refused(teller_client, alice_card, change):
    payload = {
        "customer": alice_card.customer_id,
        "account": alice_card.account_id,
        "pan": "4111111111111111",
        "expires_on": "2099-01-31",
        **change,
    }
    before = db_picture()
    response = teller_client.post("/api/accounts/cards/", payload, content_type="application/json")
    _refused(response, 400)
    assert_nothing_written(before)


@pytest.mark.parametrize(
    "path",
    [
        "/api/accounts/cards/{card}/block/",
        "/api/accounts/cards/999999/block/",
        "/api/accounts/accounts/999999/transactions/",
    ],
)
def test_staff_actions_with_bad_targets_or_bodies(teller_client, alice_card, path):
    before = db_picture()
    url = path.format(card=alice_card.pk)
    if "transactions" in url:
        response = teller_client.get(url)
    else:
        response = teller_client.post(
            url, {"reason": ["x"] * 3, "stolen": "maybe"}, content_type="application/json"
        )
    _refused(response, 400, 404)
    assert_nothing_written(before)


def test_staff_path_ids_that_are_not_numbers_are_404(teller_client):
    for url in ("/api/accounts/cards/1%20OR%201=1/block/", "/api/accounts/accounts/x/transactions/"):
        assert teller_client.post(url).status_code == 404


# --- Enrolment API (branch, staff session) -------------------------------------------------------------


@pytest.fixture
def enrolment_client(teller):
    enrollment = pytest.importorskip("biometrics.services.enrollment")
    from tests.factories import CustomerFactory

    customer = CustomerFactory()
    enrollment.customer_consent_record(customer=customer, actor=teller)
    enrolment = enrollment.enrolment_start(customer=customer, actor=teller)
    client = APIClient()
    client.force_login(teller)
    client.enrolment_id = enrolment.pk
    return client


@pytest.mark.parametrize("name", sorted(HOSTILE_IMAGES))
def test_hostile_enrolment_photo_is_refused(enrolment_client, name):
    before = db_picture()
    upload = io.BytesIO(HOSTILE_IMAGES[name])
    upload.name = "photo.jpg"
    response = enrolment_client.post(
        f"/api/biometrics/enrolments/{enrolment_client.enrolment_id}/photos/",
        {"photo": upload},
        format="multipart",
    )
    assert response.status_code < 500, response.content[:300]
    if response.status_code == 201:
        # The API answers 201 with feedback for the person at the camera; a refused shot stores nothing.
        assert response.json()["accepted"] is False
    else:
        _refused(response, 400, 413)
    assert_nothing_written(before)


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [("application/json", '{"photo": "AAAA"}'), ("text/plain", "photo"), ("image/png", "\x89PNG")],
)
def test_enrolment_photo_with_a_wrong_content_type(enrolment_client, content_type, payload):
    before = db_picture()
    response = enrolment_client.post(
        f"/api/biometrics/enrolments/{enrolment_client.enrolment_id}/photos/",
        payload,
        content_type=content_type,
    )
    _refused(response, 400, 415)
    assert_nothing_written(before)


def test_enrolment_for_an_unknown_or_injected_customer(enrolment_client):
    before = db_picture()
    for customer in ("' OR 1=1 --", 10**12, ["1"], None):
        response = enrolment_client.post("/api/biometrics/enrolments/", {"customer": customer}, format="json")
        _refused(response, 400)
    assert_nothing_written(before)


# --- CSRF: the cookie-authenticated kiosk and the staff forms -----------------------------------------------


@pytest.fixture
def kiosk_browser(kiosk):
    """A browser holding the kiosk cookie (set by the provisioning link), with CSRF checks enforced."""
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    browser = Client(enforce_csrf_checks=True)
    token = browser.get("/kiosk/provision/").context["csrf_token"]
    assert (
        browser.post("/kiosk/provision/", {"code": raw, "csrfmiddlewaretoken": str(token)}).status_code == 302
    )
    return browser


@pytest.fixture
def cookie_session(kiosk_browser, alice_card, alice_pan, face_script):
    """A session the kiosk page started legitimately (cookie + CSRF header): (browser, session body)."""
    csrf = str(kiosk_browser.get("/kiosk/").context["csrf_token"])
    response = kiosk_browser.post(
        "/api/kiosk/sessions/",
        {"card_number": alice_pan, "expiry": card_expiry_of(alice_pan)},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 201
    return kiosk_browser, response.json()


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/kiosk/sessions/", {"card_number": "PAN"}),
        ("/api/kiosk/sessions/{sid}/end/", {}),
        ("/api/kiosk/sessions/{sid}/otp/", {}),
        ("/api/kiosk/sessions/{sid}/otp/verify/", {"code": "123456"}),
        ("/api/kiosk/sessions/{sid}/withdrawals/", {"amount": "20", "idempotency_key": "csrf-key-0001"}),
        ("/api/kiosk/sessions/{sid}/deposits/", {"idempotency_key": "csrf-key-0002"}),
        ("/api/kiosk/sessions/{sid}/cash-in/", {"notes": {"20": 1}, "idempotency_key": "csrf-key-0003"}),
        ("/api/kiosk/sessions/{sid}/deposits/cancel/", {}),
    ],
)
def test_cross_site_posts_with_the_kiosk_cookie_are_refused(cookie_session, alice_pan, path, payload):
    browser, session = cookie_session
    payload = {key: alice_pan if value == "PAN" else value for key, value in payload.items()}
    url = path.format(sid=session["id"])
    before = db_picture()
    body = _refused(browser.post(url, payload, content_type="application/json"), 403)
    assert "CSRF" in body["detail"]
    # A forged header value is no better than none.
    forged = browser.post(url, payload, content_type="application/json", headers={"X-CSRFToken": "x" * 64})
    _refused(forged, 403)
    assert_nothing_written(before)


def test_cross_site_frame_post_with_the_kiosk_cookie_is_refused(cookie_session):
    browser, session = cookie_session
    before = db_picture()
    frame = io.BytesIO(jpeg_frame())
    frame.name = "f.jpg"
    response = browser.post(
        f"/api/kiosk/sessions/{session['id']}/frames/",
        {"frame": frame, "nonce": session["frame_nonce"], "seq": 1},
    )
    _refused(response, 403)
    assert_nothing_written(before)


def test_cross_site_provisioning_post_does_not_burn_the_code(kiosk):
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    before = db_picture()
    response = Client(enforce_csrf_checks=True).post("/kiosk/provision/", {"code": raw})
    assert response.status_code == 403
    assert "kiosk_credential" not in response.cookies
    assert KioskProvisioningCode.objects.get().used_at is None
    assert_nothing_written(before)


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/admin/accounts/customer/add/", {"full_name": "Mallory", "phone": "+447700900999"}),
        ("/branch/customers/new/", {"full_name": "Mallory", "phone": "+447700900999", "consent": "on"}),
        ("/branch/customers/{customer}/", {"consent": "on"}),
        ("/api/accounts/customers/", {"full_name": "Mallory", "phone": "+447700900999"}),
        ("/api/accounts/cards/{card}/block/", {"reason": "csrf"}),
        ("/admin/logout/", {}),
    ],
)
def test_cross_site_staff_form_posts_are_refused(administrator, teller, alice_card, path, payload):
    staff = administrator if path.startswith("/admin/") else teller
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    before = db_picture()
    url = path.format(customer=alice_card.customer_id, card=alice_card.pk)
    response = browser.post(url, payload)
    assert response.status_code == 403, (url, response.status_code)
    assert not Customer.objects.filter(full_name="Mallory").exists()
    assert_nothing_written(before)


# --- Markup in names is escaped wherever it is shown ---------------------------------------------------

SCRIPT_NAME = "<script>alert('owned')</script> Eve"


@pytest.fixture
def script_customer(teller_client, administrator):
    response = teller_client.post(
        "/api/accounts/customers/",
        {"full_name": SCRIPT_NAME, "phone": "+447700900777"},
        content_type="application/json",
    )
    assert response.status_code == 201
    return Customer.objects.get(pk=response.json()["id"])


def _escaped(content: bytes) -> None:
    text = content.decode()
    assert "<script>alert(" not in text
    assert "&lt;script&gt;alert(" in text or "\\u003Cscript\\u003E" in text


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/customer/",
        "/admin/accounts/customer/?q=%3Cscript%3E",
        "/admin/accounts/customer/{customer}/change/",
        "/branch/?q=Eve",
        "/branch/customers/{customer}/",
    ],
)
def test_script_in_a_customer_name_is_escaped(script_customer, administrator, teller, path):
    client = Client()
    client.force_login(administrator if path.startswith("/admin/") else teller)
    response = client.get(path.format(customer=script_customer.pk))
    assert response.status_code == 200
    _escaped(response.content)


def test_script_in_a_customer_name_is_escaped_on_the_enrolment_page(script_customer, teller):
    enrollment = pytest.importorskip("biometrics.services.enrollment")
    enrollment.customer_consent_record(customer=script_customer, actor=teller)
    enrolment = enrollment.enrolment_start(customer=script_customer, actor=teller)
    client = Client()
    client.force_login(teller)
    response = client.get(f"/branch/enrolments/{enrolment.pk}/")
    assert response.status_code == 200
    _escaped(response.content)


def test_script_in_names_is_escaped_on_the_kiosk_page(kiosk_browser, kiosk, settings):
    settings.DEBUG = True  # the page then also lists the demo customers' names
    kiosk.name = "<script>alert('kiosk')</script>"
    kiosk.save(update_fields=["name"])
    response = kiosk_browser.get("/kiosk/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "<script>alert(" not in text
    assert "&lt;script&gt;alert(&#x27;kiosk&#x27;)&lt;/script&gt;" in text


@pytest.mark.parametrize("query", INJECTION_STRINGS)
def test_injection_in_the_staff_search_boxes(administrator, teller, alice, query):
    admin = Client()
    admin.force_login(administrator)
    branch = Client()
    branch.force_login(teller)
    for client, url in (
        (admin, "/admin/accounts/customer/"),
        (admin, "/admin/accounts/card/"),
        (admin, "/admin/audit/auditevent/"),
        (branch, "/branch/"),
    ):
        response = client.get(url, {"q": query})
        assert response.status_code in (200, 400), (url, response.status_code)
        assert "<script>alert(" not in response.content.decode()
    assert Customer.objects.count() == 1
