"""The staff API proposes what could hand an account to someone else; it never applies it alone."""

from __future__ import annotations

import pytest

from accounts.models import Card, ChangeRequest
from biometrics.models import FaceTemplate
from tests.biometrics.test_enrolment_support import fresh_gallery  # noqa: F401
from tests.factories import make_pan
from tests.support.faces import active_templates

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_gallery")]


def test_card_issue_through_the_api_is_a_proposal(client, teller, alice_card):
    client.force_login(teller)
    pan = make_pan(5150)
    response = client.post(
        "/api/accounts/cards/",
        {
            "customer": alice_card.customer_id,
            "account": alice_card.account_id,
            "pan": pan,
            "expires_on": "2031-01-31",
        },
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "card_issue" and body["state"] == "pending"
    assert pan not in response.content.decode()
    assert Card.objects.count() == 1


def test_a_duplicate_pending_card_number_is_a_409(client, teller, alice_card):
    client.force_login(teller)
    payload = {
        "customer": alice_card.customer_id,
        "account": alice_card.account_id,
        "pan": make_pan(5151),
        "expires_on": "2031-01-31",
    }
    assert client.post("/api/accounts/cards/", payload, content_type="application/json").status_code == 202
    again = client.post("/api/accounts/cards/", payload, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] in ("pan_duplicate", "change_pending")
    assert ChangeRequest.objects.count() == 1


def test_biometric_revoke_through_the_api_is_a_proposal(client, administrator, alice):
    active_templates(alice, 2)
    client.force_login(administrator)
    response = client.post(
        f"/api/biometrics/customers/{alice.pk}/revoke/", {}, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "biometrics_revoke"
    assert FaceTemplate.objects.filter(customer=alice, revoked_at__isnull=True).count() == 2
