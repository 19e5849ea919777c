"""Issue 20, item 2: what the second person sees and what an approval re-checks.

Found: the approver saw only masked numbers and no reason, and a card issue approved after the customer had
been deactivated was applied.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.approvals.services import card_issue_propose, change_request_approve, phone_change_propose
from accounts.models import Card, ChangeRequest
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from tests.factories import make_pan

pytestmark = pytest.mark.django_db

NEW_PHONE = "+447700966666"


def test_a_card_issue_approved_after_the_customer_was_deactivated_is_refused(
    teller, administrator, alice_card
) -> None:
    alice = alice_card.customer
    change = card_issue_propose(
        customer=alice,
        account=alice_card.account,
        pan=make_pan(7777),
        expires_on=timezone.localdate() + dt.timedelta(days=800),
        actor=teller,
    )
    account_services.customer_active_set(customer=alice, is_active=False, actor=administrator)
    with pytest.raises(ApplicationError) as refused:
        change_request_approve(change_request=change, actor=administrator)
    assert refused.value.code == "customer_inactive"
    assert Card.objects.filter(customer=alice).count() == 1  # nothing applied
    change.refresh_from_db()
    assert change.state == ChangeRequest.State.PENDING


def test_the_approver_sees_the_full_old_and_new_phone_and_the_viewing_is_audited(
    client, teller, administrator, alice_card
) -> None:
    alice = alice_card.customer
    change = phone_change_propose(customer=alice, phone=NEW_PHONE, actor=teller, reason="new SIM, ID checked")
    url = reverse("admin:accounts_changerequest_approve", args=[change.pk])
    client.force_login(teller)  # the proposer, who cannot decide: no full numbers, nothing recorded
    assert alice.phone not in client.get(url).content.decode()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.CHANGE_VIEWED).exists()
    client.force_login(administrator)
    page = client.get(url).content.decode()
    assert alice.phone in page and NEW_PHONE in page
    assert "new SIM, ID checked" in page
    viewed = AuditEvent.objects.get(kind=AuditEvent.Kind.CHANGE_VIEWED)
    assert viewed.actor_id == administrator.pk and viewed.data["change_request_id"] == change.pk
    assert NEW_PHONE not in str(viewed.data) and alice.phone not in str(viewed.data)
