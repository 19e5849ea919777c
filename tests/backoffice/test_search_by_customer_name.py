"""Search by customer name (issue 23 item 4): the audit trail and the kiosk sessions find a customer's rows by
their name, and the kiosk filter of both lists takes a kiosk's name."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_event_record
from tests.factories import KioskFactory
from tests.kiosk.factories import KioskSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_customers(alice_card, bob_card):
    lobby = KioskFactory(name="Lobby North")
    street = KioskFactory(name="Street South")
    sessions = {
        "alice": KioskSessionFactory(card=alice_card, kiosk=lobby),
        "bob": KioskSessionFactory(card=bob_card, kiosk=street),
        "cardless": KioskSessionFactory(
            cardless=True, kiosk=street, account__customer__full_name="Cara Less"
        ),
    }
    with transaction.atomic():
        for card, kiosk, seq_mark in ((alice_card, lobby, "alice-mark"), (bob_card, street, "bob-mark")):
            audit_event_record(
                kind=AuditEvent.Kind.FACE_DECISION,
                customer_id=card.customer_id,
                kiosk_id=kiosk.pk,
                card_last4=card.last4,
                data={"mark": seq_mark},
            )
    return sessions


def _audit_marks(client, **params) -> set[str]:
    answer = client.get(reverse("admin:audit_auditevent_changelist"), params)
    assert answer.status_code == 200
    return {mark for mark in ("Alice Archer", "Bob Baker") if mark in answer.content.decode()}


def _session_ids(client, sessions: dict, **params) -> set[str]:
    answer = client.get(reverse("admin:kiosk_kiosksession_changelist"), params)
    assert answer.status_code == 200
    html = answer.content.decode()
    return {name for name, session in sessions.items() if str(session.public_id) in html}


def test_audit_search_finds_events_by_customer_name(client, auditor, two_customers):
    client.force_login(auditor)
    assert _audit_marks(client, q="alice") == {"Alice Archer"}
    assert _audit_marks(client, q="Bob Baker") == {"Bob Baker"}
    assert _audit_marks(client, q="Nobody Here") == set()


def test_audit_kiosk_filter_takes_a_name_or_an_id(client, auditor, two_customers):
    client.force_login(auditor)
    assert _audit_marks(client, kiosk_id="lobby") == {"Alice Archer"}
    street = two_customers["bob"].kiosk
    assert _audit_marks(client, kiosk_id=str(street.pk)) == {"Bob Baker"}
    assert _audit_marks(client, kiosk_id="no such kiosk") == set()


def test_kiosk_session_search_by_customer_name_and_filter_by_kiosk_name(client, administrator, two_customers):
    client.force_login(administrator)
    assert _session_ids(client, two_customers, q="Alice Archer") == {"alice"}
    assert _session_ids(client, two_customers, q="cara") == {"cardless"}
    assert _session_ids(client, two_customers, kiosk_id="street") == {"bob", "cardless"}
    assert _session_ids(client, two_customers, kiosk_id="STREET", q="baker") == {"bob"}


def test_name_search_needs_the_list_permission(client, teller, two_customers):
    client.force_login(teller)
    assert client.get(reverse("admin:kiosk_kiosksession_changelist"), {"q": "alice"}).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_changelist"), {"q": "alice"}).status_code == 403
