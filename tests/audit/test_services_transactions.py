"""Every event the accounts services write is in the change's own transaction: it rolls back with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.errors import AccountsError
from accounts.models import Card
from atmsite.errors import ApplicationError
from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_event_record
from tests.factories import make_pan

pytestmark = pytest.mark.django_db


class Abort(Exception):
    pass


def _customer_create(card: Card, actor: object) -> int | None:
    return services.customer_create(full_name="Carol Cole", phone="+447700900777", actor=actor).pk


def _card_issue(card: Card, actor: object) -> int | None:
    services.card_issue(
        customer=card.customer,
        account=card.account,
        pan=make_pan(77),
        expires_on=timezone.localdate() + dt.timedelta(days=700),
        actor=actor,
    )
    return card.customer_id


def _card_block(card: Card, actor: object) -> int | None:
    services.card_block(card=card, reason="lost", actor=actor)
    return card.customer_id


def _card_unblock(card: Card, actor: object) -> int | None:
    Card.objects.filter(pk=card.pk).update(status=Card.Status.BLOCKED)
    services.card_unblock(card=card, actor=actor)
    return card.customer_id


def _withdrawal(card: Card, actor: object) -> int | None:
    services.withdrawal_create(account=card.account, amount="20.00", idempotency_key="audit-rb-01", card=card)
    return card.customer_id


def _deposit(card: Card, actor: object) -> int | None:
    services.deposit_create(account=card.account, amount="20.00", idempotency_key="audit-rb-02", actor=actor)
    return card.customer_id


SERVICE_EVENTS: list[tuple[str, Callable[[Card, object], int | None]]] = [
    (AuditEvent.Kind.CUSTOMER_CREATED, _customer_create),
    (AuditEvent.Kind.CARD_ISSUED, _card_issue),
    (AuditEvent.Kind.CARD_BLOCKED, _card_block),
    (AuditEvent.Kind.CARD_UNBLOCKED, _card_unblock),
    (AuditEvent.Kind.WITHDRAWAL, _withdrawal),
    (AuditEvent.Kind.DEPOSIT, _deposit),
]


@pytest.mark.parametrize(("kind", "call"), SERVICE_EVENTS, ids=[kind for kind, _ in SERVICE_EVENTS])
def test_event_is_written_in_the_transaction_and_rolls_back_with_it(alice_card, teller, kind, call):
    head_before = AuditChainHead.objects.get_or_create(id=1)[0]
    with pytest.raises(Abort), transaction.atomic():
        customer_id = call(alice_card, teller)
        event = AuditEvent.objects.get(kind=kind)  # visible inside the change's transaction
        assert event.customer_id == customer_id
        assert AuditChainHead.objects.get(id=1).seq == event.seq
        raise Abort
    assert not AuditEvent.objects.filter(kind=kind).exists()
    assert AuditChainHead.objects.get(id=1).seq == head_before.seq


@pytest.mark.parametrize(("kind", "call"), SERVICE_EVENTS, ids=[kind for kind, _ in SERVICE_EVENTS])
def test_event_is_kept_when_the_change_commits(alice_card, teller, kind, call):
    customer_id = call(alice_card, teller)
    event = AuditEvent.objects.get(kind=kind)
    assert event.customer_id == customer_id
    assert event.outcome in (AuditEvent.Outcome.SUCCESS, AuditEvent.Outcome.INFO)


def test_a_failed_service_call_writes_no_event(alice_card):
    with pytest.raises(ApplicationError) as refused:
        services.withdrawal_create(
            account=alice_card.account, amount="9999.00", idempotency_key="audit-rb-03"
        )
    assert refused.value.code == AccountsError.INSUFFICIENT_FUNDS
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.WITHDRAWAL).exists()


def test_recording_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_event_record(kind=AuditEvent.Kind.FACE_DECISION)
    assert AuditEvent.objects.count() == 0
