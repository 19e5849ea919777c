"""WhatsApp notices to customers who asked for them: every withdrawal, every failed face check on their
cards. Wired by the portal itself (AppConfig.ready) to where those happen — a withdrawal's ledger row and a
failed face decision's audit event — and sent by a task queued with transaction.on_commit, so the kiosk's
transaction is untouched and nothing is sent for a change that rolled back."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from accounts.models import Transaction
from audit.models import AuditEvent

from .events import whatsapp_send
from .models import CustomerLogin

logger = logging.getLogger(__name__)

WITHDRAWAL_BODY = _("Your bank: %(amount)s %(currency)s was withdrawn from account ending %(account)s.")
FACE_FAILURE_BODY = _(
    "Your bank: a face check with your card ending %(card)s failed at a cash machine. "
    "If this was not you, open your online banking and press 'This was not me'."
)


def notice_send(*, kind: str, customer_id: int, params: dict[str, str]) -> bool:
    """Send one notice if the customer's portal login asked for this kind; returns whether one went out."""
    login = (
        CustomerLogin.objects.select_related("customer")
        .filter(customer_id=customer_id, activated_at__isnull=False, customer__is_active=True)
        .first()
    )
    if login is None:
        return False
    if kind == "withdrawal" and login.notify_withdrawals:
        body = WITHDRAWAL_BODY
    elif kind == "face_failure" and login.notify_face_failures:
        body = FACE_FAILURE_BODY
    else:
        return False
    return whatsapp_send(phone=login.customer.phone, language=login.language, body=body, params=params)


def _wants(kind: str, customer_id: int) -> bool:
    wanted = {"withdrawal": "notify_withdrawals", "face_failure": "notify_face_failures"}[kind]
    return CustomerLogin.objects.filter(
        customer_id=customer_id, activated_at__isnull=False, **{wanted: True}
    ).exists()


def _queue(kind: str, customer_id: int, params: dict[str, str]) -> None:
    from .tasks import portal_notice_task

    def queue_if_wanted() -> None:
        # Only customers who asked cost a task (and a broker round trip); the task checks again.
        if _wants(kind, customer_id):
            portal_notice_task.delay(kind, customer_id, params)

    # robust: a broker outage must not turn a committed withdrawal into an error page.
    transaction.on_commit(queue_if_wanted, robust=True)


def _on_ledger_row(sender: Any, instance: Transaction, created: bool, **kwargs: Any) -> None:
    if not created or instance.kind != Transaction.Kind.WITHDRAWAL:
        return
    account = instance.account
    params = {"amount": str(instance.amount), "currency": account.currency, "account": account.number[-4:]}
    _queue("withdrawal", account.customer_id, params)


def _on_audit_event(sender: Any, instance: AuditEvent, created: bool, **kwargs: Any) -> None:
    # A failed face decision on a card session (card-less sessions have no card to warn about).
    if (
        created
        and instance.kind == AuditEvent.Kind.FACE_DECISION
        and instance.outcome == AuditEvent.Outcome.FAILURE
        and instance.card_last4
        and instance.customer_id
    ):
        _queue("face_failure", instance.customer_id, {"card": instance.card_last4})


def connect() -> None:
    post_save.connect(_on_ledger_row, sender=Transaction, dispatch_uid="portal.notice.withdrawal")
    post_save.connect(_on_audit_event, sender=AuditEvent, dispatch_uid="portal.notice.face_failure")
