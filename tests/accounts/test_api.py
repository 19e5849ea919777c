from __future__ import annotations

import pytest

from accounts.models import Card, Customer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("phone", ["07700900123", "+0123456", "+44 7700 900123", "phone", ""])
def test_malformed_phone_is_a_400_and_writes_nothing(client, teller, phone):
    client.force_login(teller)
    response = client.post(
        "/api/accounts/customers/", {"full_name": "Carol", "phone": phone}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert Customer.objects.count() == 0


def test_teller_creates_customer(client, teller):
    client.force_login(teller)
    response = client.post(
        "/api/accounts/customers/",
        {"full_name": "Carol", "phone": "+447700900555"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert Customer.objects.get().phone == "+447700900555"


def test_non_luhn_card_is_a_400(client, teller, alice):
    from accounts import services

    account = services.account_open(customer=alice, number="DE00 1")
    client.force_login(teller)
    response = client.post(
        "/api/accounts/cards/",
        {"customer": alice.pk, "account": account.pk, "pan": "4539148803436468", "expires_on": "2031-01-31"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "4539148803436468" not in response.content.decode()
    assert Card.objects.count() == 0


def test_auditor_cannot_block_cards_through_the_api(client, auditor, alice_card):
    client.force_login(auditor)
    response = client.post(
        f"/api/accounts/cards/{alice_card.pk}/block/", {"reason": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.ACTIVE


def test_anonymous_gets_403(client, alice_card):
    assert client.get("/api/accounts/customers/").status_code == 403


def test_schema_and_docs_are_served(client, teller):
    client.force_login(teller)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/accounts/customers/" in schema.content
    assert client.get("/api/docs/").status_code == 200
