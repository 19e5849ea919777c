"""Customer 360 (issue 23 item 4): one page with a customer's accounts, cards, face, card-less status, pending
requests, last sessions and transactions, and (for snapshot viewers only) the snapshots of failed checks."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.urls import reverse
from PIL import Image

from accounts.approvals.services import phone_change_propose
from accounts.models import ChangeRequest
from accounts.services import withdrawal_create
from audit.models import AuditEvent
from audit.services import audit_event_record
from tests.factories import UserFactory
from tests.kiosk.factories import KioskSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def alice_day(alice_card, kiosk, teller):
    """Alice after a day at the bank: a withdrawal, a verified session, a refused one with its snapshot,
    and a phone change waiting for approval."""
    account = alice_card.account
    withdrawal_create(account=account, amount=Decimal("40"), kiosk=kiosk, idempotency_key="c360-key-1")
    KioskSessionFactory(card=alice_card, kiosk=kiosk)
    KioskSessionFactory(
        card=alice_card,
        kiosk=kiosk,
        state="ended",
        verified_at=None,
        verified_by="",
        face_failure_reason="no_match",
        end_reason="customer",
    )
    phone_change_propose(customer=alice_card.customer, phone="+447700900999", actor=teller)
    jpeg = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 120, 40)).save(jpeg, format="JPEG")
    with transaction.atomic():
        event = audit_event_record(
            kind=AuditEvent.Kind.FACE_DECISION,
            outcome=AuditEvent.Outcome.FAILURE,
            kiosk_id=kiosk.pk,
            customer_id=alice_card.customer_id,
            card_last4=alice_card.last4,
            data={"reason": "no_match"},
            snapshot=jpeg.getvalue(),
        )
    return event


def _url(customer) -> str:
    return reverse("admin:accounts_customer_overview", args=[customer.pk])


def test_customer_360_shows_everything_about_the_customer(client, administrator, alice_card, alice_day):
    client.force_login(administrator)
    page = client.get(_url(alice_card.customer))
    assert page.status_code == 200
    html = page.content.decode()
    assert alice_card.account.number in html and "460.00 EUR" in html  # balance after the withdrawal
    assert alice_card.masked_pan in html
    assert reverse("admin:accounts_card_change", args=[alice_card.pk]) in html
    pending = ChangeRequest.objects.get(state="pending")
    assert reverse("admin:accounts_changerequest_change", args=[pending.pk]) in html
    assert "Verified by face" in html and "Refused" in html and "Face not matched" in html
    assert "40.00 EUR" in html  # the last transaction
    assert 'class="snapshot-thumb" src="data:image/jpeg;base64,' in html
    assert f"?event={alice_day.pk}" in html
    viewed = AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_VIEWED).get()
    assert viewed.actor_username == administrator.username  # faces shown are an audited view


def test_customer_360_is_linked_from_the_customer_page_and_list(client, teller, alice):
    client.force_login(teller)
    url = _url(alice)
    assert url in client.get(reverse("admin:accounts_customer_change", args=[alice.pk])).content.decode()
    assert url in client.get(reverse("admin:accounts_customer_changelist")).content.decode()


def test_teller_sees_customer_360_without_snapshots(client, teller, alice_card, alice_day):
    client.force_login(teller)
    page = client.get(_url(alice_card.customer))
    assert page.status_code == 200
    html = page.content.decode()
    assert alice_card.masked_pan in html
    assert "snapshot-thumb" not in html and "c360-snapshots" not in html
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_VIEWED).exists()


def test_customer_360_refuses_non_staff_and_staff_without_the_customer_permission(client, alice):
    outsider = UserFactory(username="not_staff", is_staff=False)
    client.force_login(outsider)
    assert client.get(_url(alice)).status_code == 302  # to the admin login
    bare_staff = UserFactory(username="bare_staff", is_staff=True)
    client.force_login(bare_staff)
    assert client.get(_url(alice)).status_code == 403
    bare_staff.user_permissions.add(Permission.objects.get(codename="view_customer"))
    assert client.get(_url(alice)).status_code == 200


def test_customer_360_unknown_customer_is_404(client, teller):
    client.force_login(teller)
    assert client.get(reverse("admin:accounts_customer_overview", args=[999999])).status_code == 404
