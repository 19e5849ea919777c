"""Reads for change requests and what they imply elsewhere (the kiosk's one-time-code pause)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ChangeRequest, Customer
from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record


def change_requests_pending() -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.filter(state=ChangeRequest.State.PENDING).select_related(
        "customer", "proposed_by"
    )


def customer_phone_recently_changed(*, customer: Customer, now: dt.datetime | None = None) -> bool:
    """True while one-time codes stay off after a phone change (OTP_DISABLED_AFTER_PHONE_CHANGE_H): a code
    sent to a number an insider just put on the account would hand them the account."""
    if customer.phone_changed_at is None:
        return False
    pause = dt.timedelta(hours=settings.OTP_DISABLED_AFTER_PHONE_CHANGE_H)
    return (now or timezone.now()) < customer.phone_changed_at + pause


def change_request_full_values(*, change: ChangeRequest, actor: Actor) -> dict[str, dict[str, str]]:
    """What an approver needs to judge a phone change: the full old and new numbers (masked everywhere else).

    Only for someone who may decide it (holds the approve permission, is not the proposer); each viewing is an
    audit event, so a look at a customer's number is on the record. Returns {} for every other case.
    """
    from .services.common import APPROVE_PERMISSION

    if change.kind != ChangeRequest.Kind.PHONE_CHANGE or change.state != ChangeRequest.State.PENDING:
        return {}
    if actor is None or not actor.has_perm(APPROVE_PERMISSION) or change.proposed_by_id == actor.pk:
        return {}
    with transaction.atomic():
        audit_event_record(
            kind=AuditEvent.Kind.CHANGE_VIEWED,
            outcome=AuditEvent.Outcome.INFO,
            actor=actor,
            customer_id=change.customer_id,
            data={"change_request_id": change.pk, "change_kind": change.kind, "shown": ["phone"]},
        )
    return {"old": {"phone": change.baseline["phone"]}, "new": {"phone": change.payload["phone"]}}
