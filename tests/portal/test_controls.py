"""What a signed-in customer sees and changes: money with search, the face timeline, freeze and unfreeze,
card-less off, notices, "this was not me", consent withdrawal and erasure requests, the data download."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from accounts.models import Card, ChangeRequest, Transaction
from accounts.services import deposit_create, withdrawal_create
from audit.models import AuditEvent
from kiosk.models import CardlessAccess, KioskSession
from kiosk.services.sessions import session_face_fail
from kiosk.vocabulary import FailureReason, VerifiedBy
from portal.models import CardFreeze, CustomerLogin, FraudCase
from tests.factories import FaceTemplateFactory, KioskFactory

from .conftest import last_code

pytestmark = pytest.mark.django_db


def kiosk_session(*, card: Card, outcome: str, minutes_ago: int = 5) -> KioskSession:
    """A finished kiosk session on `card`: verified by face or code, or failed (reason)."""
    when = timezone.now() - dt.timedelta(minutes=minutes_ago)
    fields: dict[str, object] = {"state": KioskSession.State.ENDED, "ended_at": when}
    if outcome == "face":
        fields["verified_by"] = VerifiedBy.FACE
    elif outcome == "otp":
        fields.update(verified_by=VerifiedBy.OTP, face_failure_reason=FailureReason.NO_MATCH)
    else:
        fields["face_failure_reason"] = outcome
    return KioskSession.objects.create(
        public_id=uuid.uuid4(),
        kiosk=KioskFactory(name=f"Kiosk {secrets.token_hex(3)}", location="High Street"),
        card=card,
        created_at=when,
        last_activity_at=when,
        frame_nonce=secrets.token_hex(16),
        **fields,
    )


def test_money_pages_show_balance_and_search_by_date_and_amount(alice_portal, alice_client):
    account = alice_portal["account"]
    deposit_create(account=account, amount="25.00", idempotency_key="dep-0001-portal")
    withdrawal_create(account=account, amount="140.00", idempotency_key="wd-0001-portal")
    page = alice_client.get("/my/").content.decode()
    assert "385.00" in page and alice_portal["card"].masked_pan in page
    found = alice_client.get(f"/my/accounts/{account.pk}/", {"amount_min": "100", "amount_max": "200"})
    assert [row.amount for row in found.context["rows"]] == [Decimal("140.00")]
    today = timezone.localdate().isoformat()
    assert (
        len(
            alice_client.get(f"/my/accounts/{account.pk}/", {"date_from": today, "date_to": today}).context[
                "rows"
            ]
        )
        == 2
    )
    refused = alice_client.get(
        f"/my/accounts/{account.pk}/", {"amount_min": "x'; DROP", "date_from": "2026-13-45"}
    )
    assert refused.status_code == 400


def test_face_page_shows_what_is_stored_and_every_use(alice_portal, alice_client):
    FaceTemplateFactory.create_batch(
        3, customer=alice_portal["customer"], enrolment__customer=alice_portal["customer"]
    )
    card = alice_portal["card"]
    kiosk_session(card=card, outcome="face", minutes_ago=30)
    kiosk_session(card=card, outcome="otp", minutes_ago=20)
    kiosk_session(card=card, outcome=FailureReason.LIVENESS, minutes_ago=10)
    kiosk_session(card=card, outcome=FailureReason.MISMATCH, minutes_ago=5)
    response = alice_client.get("/my/face/")
    page = response.content.decode()
    assert response.context["summary"].active_templates == 3
    assert [use.outcome for use in response.context["uses"]] == [
        "refused",
        "liveness_failed",
        "code_used",
        "verified",
    ]
    assert page.count("This was not me") == 3
    assert "2026-1" in page  # the consent version
    assert "snapshot" not in page.lower() and "<img" not in page


def test_not_me_opens_a_fraud_case_and_offers_freeze(alice_portal, alice_client):
    session = kiosk_session(card=alice_portal["card"], outcome=FailureReason.NO_MATCH)
    response = alice_client.post(f"/my/face/uses/{session.public_id}/not-me/", {"note": "I was at home"})
    assert response.status_code == 200 and "freeze-offer" in response.content.decode()
    case = FraudCase.objects.get()
    assert case.session == session and case.customer == alice_portal["customer"] and case.state == "open"
    event = AuditEvent.objects.get(kind="portal.fraud_reported")
    assert event.actor_username == f"customer:{alice_portal['customer'].pk}"
    # Reporting again does not open a second case.
    alice_client.post(f"/my/face/uses/{session.public_id}/not-me/", {"note": ""})
    assert FraudCase.objects.count() == 1
    # Freezing from the offer shows in the fraud queue.
    alice_client.post(f"/my/cards/{alice_portal['card'].pk}/freeze/")
    assert FraudCase.objects.get().card_frozen


def test_freeze_is_immediate_and_unfreeze_needs_code_and_cooling_off(alice_portal, alice_client, outbox):
    card = alice_portal["card"]
    assert alice_client.post(f"/my/cards/{card.pk}/freeze/").status_code == 302
    card.refresh_from_db()
    assert card.status == Card.Status.BLOCKED
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.CARD_BLOCKED, actor_username__startswith="customer:"
    ).exists()
    page = f"/my/cards/{card.pk}/unfreeze/"
    assert alice_client.post(page, {"action": "complete"}).status_code == 409
    assert alice_client.post(page, {"action": "confirm", "code": "000000"}).status_code == 400
    alice_client.post(page, {"action": "send"})
    assert alice_client.post(page, {"action": "confirm", "code": last_code(outbox)}).status_code == 200
    assert alice_client.post(page, {"action": "complete"}).status_code == 409  # still cooling off
    card.refresh_from_db()
    assert card.status == Card.Status.BLOCKED
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        # A new session (the old one idled out): sign in again inside the travelled time.
        from django.test import Client

        from .conftest import sign_in

        client = Client()
        sign_in(client, alice_portal["customer"].phone)
        assert client.post(page, {"action": "complete"}).status_code == 302
    card.refresh_from_db()
    assert card.status == Card.Status.ACTIVE and CardFreeze.objects.get().ended_at is not None


def test_a_staff_block_cannot_be_lifted_in_the_portal(alice_portal, alice_client):
    from accounts.services import card_block

    card = card_block(card=alice_portal["card"], reason="Security")
    alice_client.post(f"/my/cards/{card.pk}/freeze/")
    response = alice_client.post(f"/my/cards/{card.pk}/unfreeze/", {"action": "confirm", "code": "123456"})
    assert response.status_code == 409
    card.refresh_from_db()
    assert card.status == Card.Status.BLOCKED and card.blocked_reason == "Security"


def test_cardless_access_can_be_turned_off_not_on(alice_portal, alice_client):
    access = CardlessAccess.objects.create(
        customer=alice_portal["customer"],
        account=alice_portal["account"],
        status="active",
        consent_at=timezone.now(),
    )
    assert alice_client.post("/my/cardless/off/").status_code == 302
    access.refresh_from_db()
    assert access.status == CardlessAccess.Status.REVOKED
    assert "Turn card-less cash off" not in alice_client.get("/my/").content.decode()


def test_notices_for_withdrawals_and_failed_face_checks(alice_portal, alice_client, outbox):
    assert alice_client.post("/my/settings/", {"withdrawals": "on", "face_failures": "on"}).status_code == 200
    login = CustomerLogin.objects.get(pk=alice_portal["login"].pk)
    assert login.notify_withdrawals and login.notify_face_failures
    outbox.clear()
    withdrawal_create(account=alice_portal["account"], amount="60.00", idempotency_key="wd-0002-portal")
    assert [m.phone for m in outbox] == ["+447700900101"] and "60.00" in outbox[0].body
    session = kiosk_session(card=alice_portal["card"], outcome="", minutes_ago=1)
    with transaction.atomic():
        session_face_fail(session, reason=FailureReason.NO_MATCH, snapshot=None)
    assert len(outbox) == 2 and alice_portal["card"].last4 in outbox[1].body
    # Turned off: no more notices.
    alice_client.post("/my/settings/", {})
    withdrawal_create(account=alice_portal["account"], amount="20.00", idempotency_key="wd-0003-portal")
    assert len(outbox) == 2


def test_notices_go_out_in_the_customers_language(alice_portal, alice_client, outbox):
    alice_client.post("/my/settings/", {"withdrawals": "on"}, HTTP_ACCEPT_LANGUAGE="ru")
    outbox.clear()
    withdrawal_create(account=alice_portal["account"], amount="30.00", idempotency_key="wd-0004-portal")
    assert "снят" in outbox[0].body.lower() or "сняли" in outbox[0].body.lower()


def test_consent_withdrawal_and_erasure_become_four_eyes_requests(alice_portal, alice_client):
    FaceTemplateFactory(customer=alice_portal["customer"], enrolment__customer=alice_portal["customer"])
    assert alice_client.post("/my/face/request/", {"what": "withdraw"}).status_code == 302
    change = ChangeRequest.objects.get()
    assert change.kind == ChangeRequest.Kind.BIOMETRICS_REVOKE and change.state == "pending"
    assert change.proposed_by is None
    proposed = AuditEvent.objects.get(kind=AuditEvent.Kind.CHANGE_PROPOSED)
    assert proposed.actor_username == f"customer:{alice_portal['customer'].pk}"
    page = alice_client.get("/my/face/").content.decode()
    assert "waiting for the bank" in page
    assert alice_client.post("/my/face/request/", {"what": "withdraw"}).status_code == 409
    assert alice_client.post("/my/face/request/", {"what": "erase"}).status_code == 302
    assert ChangeRequest.objects.filter(kind=ChangeRequest.Kind.BIOMETRICS_ERASE).count() == 1
    assert alice_client.post("/my/face/request/", {"what": "<script>"}).status_code == 400


def test_data_download_has_everything_about_me_and_nothing_else(alice_portal, bob_portal, alice_client):
    template = FaceTemplateFactory(
        customer=alice_portal["customer"], enrolment__customer=alice_portal["customer"]
    )
    withdrawal_create(account=alice_portal["account"], amount="40.00", idempotency_key="wd-0005-portal")
    kiosk_session(card=alice_portal["card"], outcome="face")
    response = alice_client.get("/my/data.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    text = response.content.decode()
    assert data["customer"]["full_name"] == "Alice Archer"
    assert data["accounts"][0]["transactions"][0]["amount"] == "40.00"
    assert data["face"]["active_templates"] == 1 and len(data["face"]["uses"]) == 1
    assert any(event["kind"] == "money.withdrawal" for event in data["audit_events"])
    assert template.encoding not in text and "encoding" not in text
    assert "Bob" not in text and bob_portal["account"].number not in text
    login = CustomerLogin.objects.get(pk=alice_portal["login"].pk)
    assert login.password not in text and '"hash"' not in text and "prev_hash" not in text
    assert all(event.hash not in text for event in AuditEvent.objects.all())
    html = alice_client.get("/my/data.html")
    assert html.status_code == 200 and "Alice Archer" in html.content.decode()
    assert AuditEvent.objects.filter(kind="portal.data_downloaded").count() == 2
    assert Transaction.objects.count() == 1
