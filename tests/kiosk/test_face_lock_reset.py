"""Issue 20, item 7: staff could not lift a face lock on an active card (the unblock action skips active
cards). A supervisor now resets it, with a reason, audited; a teller cannot."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import services as account_services
from accounts.roles import SUPERVISOR
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from kiosk.models import CardSecurity
from kiosk.services import card_security
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _locked(card, settings) -> None:
    for _ in range(settings.KIOSK_FACE_LOCKOUT_FAILURES):
        card_security.card_face_failure_record(card=card, kiosk_id=1)
    assert card_security.card_face_locked(card=card)


def test_a_supervisor_resets_the_face_lock_of_an_active_card_with_a_reason(
    client, roles, teller, alice_card, settings
) -> None:
    _locked(alice_card, settings)
    supervisor = UserFactory(username="sam_supervisor", is_staff=True)
    supervisor.groups.add(Group.objects.get(name=SUPERVISOR))
    with pytest.raises(ApplicationError) as refused:
        account_services.card_face_lock_reset(card=alice_card, reason="ID checked", actor=teller)
    assert refused.value.code == "face_lock_reset_permission"
    with pytest.raises(ApplicationError):
        account_services.card_face_lock_reset(card=alice_card, reason=" ", actor=supervisor)
    assert card_security.card_face_locked(card=alice_card)

    client.force_login(supervisor)
    changelist = reverse("admin:accounts_card_changelist")
    client.post(
        changelist,
        {
            "action": "reset_face_lock",
            "_selected_action": [alice_card.pk],
            "confirm": "yes",
            "reason": "ID checked",
        },
    )
    assert not card_security.card_face_locked(card=alice_card)
    assert CardSecurity.objects.get(card=alice_card).consecutive_face_failures == 0
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_LOCK_RESET)
    assert event.actor_id == supervisor.pk and event.data["reason"] == "ID checked"
    assert event.card_last4 == alice_card.last4


def test_a_teller_does_not_get_the_reset_action(client, teller, alice_card) -> None:
    client.force_login(teller)
    page = client.get(reverse("admin:accounts_card_changelist")).content.decode()
    assert "reset_face_lock" not in page
