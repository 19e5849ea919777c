"""Hostile input at the staff and enrolment APIs: a clear 4xx with a reason, never a 500, and
nothing written (a picture of every row count, balance, cassette and session before and after)."""

from __future__ import annotations

import io

import pytest
from rest_framework.test import APIClient

from .helpers import (
    HOSTILE_IMAGES,
    INJECTION_STRINGS,
    assert_nothing_written,
    db_picture,
    refused,
)

pytestmark = pytest.mark.django_db

# --- Staff API -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", INJECTION_STRINGS)
def test_injection_in_the_customer_search(teller_client, alice, query):
    response = teller_client.get("/api/accounts/customers/", {"q": query})
    if "\x00" in query:
        assert refused(response, 400)["code"] == "query_invalid"
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
def test_bad_customers_arerefused(teller_client, payload):
    before = db_picture()
    response = teller_client.post("/api/accounts/customers/", payload, content_type="application/json")
    assert refused(response, 400)["code"] == "invalid"
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
def test_bad_cards_arerefused(teller_client, alice_card, change):
    payload = {
        "customer": alice_card.customer_id,
        "account": alice_card.account_id,
        "pan": "4111111111111111",
        "expires_on": "2099-01-31",
        **change,
    }
    before = db_picture()
    response = teller_client.post("/api/accounts/cards/", payload, content_type="application/json")
    refused(response, 400)
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
    refused(response, 400, 404)
    assert_nothing_written(before)


def test_staff_path_ids_that_are_not_numbers_are_404(teller_client):
    for url in ("/api/accounts/cards/1%20OR%201=1/block/", "/api/accounts/accounts/x/transactions/"):
        assert teller_client.post(url).status_code == 404


# --- Enrolment API (branch, staff session) -------------------------------------------------------------


@pytest.fixture
def enrolment_client(teller):
    enrolment_capture = pytest.importorskip("biometrics.services.enrolment_capture")
    from tests.factories import CustomerFactory

    customer = CustomerFactory()
    enrolment_capture.customer_consent_record(customer=customer, actor=teller)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=teller)
    client = APIClient()
    client.force_login(teller)
    client.enrolment_id = enrolment.pk
    return client


@pytest.mark.parametrize("name", sorted(HOSTILE_IMAGES))
def test_hostile_enrolment_photo_isrefused(enrolment_client, name):
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
        refused(response, 400, 413)
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
    refused(response, 400, 415)
    assert_nothing_written(before)


def test_enrolment_for_an_unknown_or_injected_customer(enrolment_client):
    before = db_picture()
    for customer in ("' OR 1=1 --", 10**12, ["1"], None):
        response = enrolment_client.post("/api/biometrics/enrolments/", {"customer": customer}, format="json")
        refused(response, 400)
    assert_nothing_written(before)
