"""What the apps above accounts register from their AppConfig.ready, since accounts may not import them
(issue 25): kiosk's card counters, the Customer 360 parts, and biometrics' customer admin page."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured

from accounts import overview
from accounts.models import Card, Customer
from accounts.services import card_block, card_unblock, cards
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_kiosk_registered_its_card_counters_once(alice_card, teller):
    registered = cards._counters()
    assert registered.face_lock_clear.__module__ == "kiosk.services.card_security"
    with pytest.raises(ImproperlyConfigured, match="already registered"):
        cards.card_counters_register(registered)


def test_an_unblock_without_registered_counters_refuses_and_changes_nothing(alice_card, teller, monkeypatch):
    # Skipping the reset silently would leave a lock or a pause behind to re-block the card.
    card_block(card=alice_card, reason="customer called", actor=teller)
    monkeypatch.setattr(cards, "_card_counters", [])
    with pytest.raises(ImproperlyConfigured, match="card counters"):
        card_unblock(card=alice_card, actor=teller)
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.BLOCKED
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.CARD_UNBLOCKED).exists()


def test_customer_360_parts_come_from_biometrics_and_kiosk(alice_card, teller):
    readers = overview._part_readers
    assert sorted(readers) == sorted(overview.OVERVIEW_PARTS)
    assert {readers[name].__module__.split(".")[0] for name in ("cardless", "sessions")} == {"kiosk"}
    assert {readers[name].__module__.split(".")[0] for name in ("biometric", "enrolment")} == {"biometrics"}
    with pytest.raises(ValueError, match="already registered"):
        overview.customer_overview_part_register("sessions", lambda customer: [])
    with pytest.raises(ValueError, match="not an overview part"):
        overview.customer_overview_part_register("loans", lambda customer: [])


def test_a_missing_customer_360_part_is_an_error_not_a_blank(alice_card, teller, monkeypatch):
    monkeypatch.setattr(overview, "_part_readers", {})
    with pytest.raises(LookupError, match="biometric"):
        overview.customer_overview(customer=alice_card.customer, user=teller)


def test_the_customer_page_is_biometrics_subclass_with_the_face_parts():
    page = admin.site.get_model_admin(Customer)
    assert type(page).__name__ == "CustomerFaceAdmin" and type(page).__module__ == "biometrics.admin"
    names = [getattr(action, "__name__", action) for action in page.actions]
    assert names[:3] == ["issue_card", "revoke_biometrics", "erase_biometrics"]
    assert page.readonly_fields[0] == "biometric_status"
