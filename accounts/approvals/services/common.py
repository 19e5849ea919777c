"""What every kind of change request shares: proposing, deciding, and the audit event of each step."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import errors
from accounts.errors import AccountsError
from accounts.models import ChangeRequest, Customer
from atmsite.errors import ApplicationError
from audit.actors import Actor, actor_user
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..kinds import change_kind

Kind = ChangeRequest.Kind
State = ChangeRequest.State
APPROVE_PERMISSION = "accounts.approve_changerequest"


def refusal(error: ValidationError, *, code: AccountsError | None = None) -> ApplicationError:
    """A validator's refusal in the validator's words, under its code (an accounts validation code)."""
    if code is None:
        code = AccountsError.from_code(error.code) if error.code else AccountsError.INVALID
    return ApplicationError(code, error.messages[0])


def change_customer_pk(change: ChangeRequest) -> int:
    """The customer a customer-side request concerns (every kind but a staff grant has one)."""
    if change.customer_id is None:
        raise ApplicationError(AccountsError.CHANGE_INVALID)
    return change.customer_id


def reason_check(reason: str) -> str:
    """The proposer's stated reason: required, so the approver decides on more than the values."""
    text = (reason or "").strip()
    if not text:
        raise ApplicationError(AccountsError.REASON_REQUIRED)
    return text[:300]


def stale(what: str) -> ApplicationError:
    return ApplicationError(
        AccountsError.CHANGE_STALE,
        params={"what": what},
        status_code=409,
    )


def change_request_values(change: ChangeRequest) -> dict[str, Any]:
    """Old and new values of a request as the audit trail shows them: masked, never a PAN or a full phone
    (each kind's own `values`, registered by the app that owns it)."""
    return change_kind(change.kind).values(change)


def change_audit(
    change: ChangeRequest, *, kind: AuditEvent.Kind, actor: Actor, outcome: AuditEvent.Outcome, **extra: Any
) -> None:
    audit_event_record(
        kind=kind,
        outcome=outcome,
        actor=actor,
        customer_id=change.customer_id,
        data={
            "change_request_id": change.pk,
            "change_kind": change.kind,
            "target": change.target,
            "proposed_by": getattr(change.proposed_by, "username", None),
            "proposal_reason": change.proposal_reason,
            **change_request_values(change),
            **extra,
        },
    )


def change_propose(
    *,
    kind: str,
    customer: Customer | None,
    target: str,
    summary: str,
    payload: dict[str, Any],
    baseline: dict[str, Any],
    actor: Actor,
    reason: str = "",
) -> ChangeRequest:
    """Open a request. `reason` is the proposer's own words, shown to the approver; the kinds whose forms
    ask for it refuse a blank one (reason_check) before calling this."""
    pending = ChangeRequest.objects.filter(kind=kind, target=target, state=State.PENDING).first()
    if pending is not None:
        raise ApplicationError(
            AccountsError.CHANGE_PENDING,
            status_code=409,
            # Staff pages link to it, so the clerk can cancel (or a checker decide) it from there.
            extra={"change_request_id": pending.pk},
        )
    try:
        with transaction.atomic():
            change = ChangeRequest.objects.create(
                kind=kind,
                customer=customer,
                target=target,
                summary=summary[:200],
                payload=payload,
                baseline=baseline,
                proposed_by=actor_user(actor),
                proposal_reason=(reason or "").strip()[:300],
            )
    except IntegrityError:  # a concurrent proposal won the partial unique constraint
        raise ApplicationError(
            AccountsError.CHANGE_PENDING,
            errors.CHANGE_PENDING_ELSEWHERE,
            status_code=409,
        ) from None
    change_audit(change, kind=AuditEvent.Kind.CHANGE_PROPOSED, actor=actor, outcome=AuditEvent.Outcome.INFO)
    return change


def change_decide(change: ChangeRequest, *, actor: Actor, state: str, reason: str = "") -> None:
    # A cancellation is the proposer's own act, not a decision by a second person: no decided_by.
    decider = None if state == State.CANCELLED else actor_user(actor)
    change.state, change.decided_by, change.decided_at = state, decider, timezone.now()
    change.reason = reason.strip()[:300]
    change.save(update_fields=["state", "decided_by", "decided_at", "reason"])
    kinds: dict[str, AuditEvent.Kind] = {
        State.APPROVED: AuditEvent.Kind.CHANGE_APPROVED,
        State.REJECTED: AuditEvent.Kind.CHANGE_REJECTED,
        State.CANCELLED: AuditEvent.Kind.CHANGE_CANCELLED,
    }
    kind = kinds[state]
    outcome = AuditEvent.Outcome.SUCCESS if state == State.APPROVED else AuditEvent.Outcome.INFO
    change_audit(change, kind=kind, actor=actor, outcome=outcome, reason=change.reason)
