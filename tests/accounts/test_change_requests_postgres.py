"""Real row locks: several approvers deciding one request at the same moment apply it once."""

from __future__ import annotations

import datetime as dt

from accounts.approvals import services as approvals
from accounts.models import Card, ChangeRequest
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from tests.factories import make_pan
from tests.support.concurrency import run_at_once

APPROVERS = 8


def test_concurrent_approvals_issue_one_card(postgres, alice_card, teller, administrator):
    pan = make_pan(8080)
    change = approvals.card_issue_propose(
        customer=alice_card.customer,
        account=alice_card.account,
        pan=pan,
        expires_on=dt.date(2031, 1, 31),
        actor=teller,
    )
    results = run_at_once(
        lambda i: approvals.change_request_approve(change_request=change, actor=administrator), APPROVERS
    )
    approved = [r for r in results if isinstance(r, ChangeRequest)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(approved) == 1, results
    assert {r.code for r in refused} == {"change_not_pending"} and len(refused) == APPROVERS - 1
    assert Card.objects.filter(account=alice_card.account).count() == 2
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CHANGE_APPROVED).count() == 1
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CARD_ISSUED).count() == 1
