"""Deciding a change request: approve (apply it through the handler its kind registered in the one dispatch
table, accounts/approvals/kinds.py), reject, or cancel."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.models import ChangeRequest, Customer
from atmsite.errors import ApplicationError
from audit.actors import Actor

from ... import errors
from ...errors import AccountsError
from ..kinds import change_kind
from .common import APPROVE_PERMISSION, State, change_customer_pk, change_decide
from .staff import staff_recently_granted_by


def _lock_pending(change_request: ChangeRequest) -> ChangeRequest:
    # The row lock makes a decision single: two approvers clicking at once cannot apply a change twice.
    change = (
        ChangeRequest.objects.select_for_update(of=("self",))
        .select_related("proposed_by")
        .get(pk=change_request.pk)
    )
    if change.state != State.PENDING:
        raise ApplicationError(
            AccountsError.CHANGE_NOT_PENDING,
            params={"state": change.get_state_display().lower()},
            status_code=409,
        )
    return change


def _recheck(change: ChangeRequest) -> None:
    """What must still hold when the decision is taken, whatever the proposer saw (the kind's own stale
    checks follow in its apply function): a refusal rolls the whole approval back, nothing is applied."""
    if change_kind(change.kind).needs_active_customer:
        customer = Customer.objects.select_for_update().get(pk=change_customer_pk(change))
        if not customer.is_active:
            raise ApplicationError(
                AccountsError.CUSTOMER_INACTIVE,
                errors.CUSTOMER_DEACTIVATED_SINCE,
                status_code=409,
            )


def _check_checker(change: ChangeRequest, actor: Actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ApplicationError(AccountsError.APPROVE_PERMISSION, errors.APPROVE_STAFF_ONLY, status_code=403)
    if change.proposed_by_id is not None and change.proposed_by_id == actor.pk:
        # No exception for superusers: four eyes means two people.
        raise ApplicationError(AccountsError.FOUR_EYES, status_code=403)
    if change.proposed_by_id is not None and staff_recently_granted_by(
        user_id=actor.pk or 0, by_id=change.proposed_by_id
    ):
        # Four eyes means two people: a login the proposer just made or promoted is their second pair.
        raise ApplicationError(
            AccountsError.FOUR_EYES_GRANTED_BY_PROPOSER,
            params={"days": settings.STAFF_GRANT_COOLING_DAYS},
            status_code=403,
        )
    if not actor.has_perm(APPROVE_PERMISSION):
        raise ApplicationError(AccountsError.APPROVE_PERMISSION, status_code=403)


@transaction.atomic
def change_request_approve(*, change_request: ChangeRequest, actor: Actor, reason: str = "") -> ChangeRequest:
    """Apply the change through the handler its kind registered, in this transaction; refuse a stale request.
    `reason` is the approver's optional note (an enrolment review's), kept on the request and its audit."""
    change = _lock_pending(change_request)
    _check_checker(change, actor)
    _recheck(change)
    # Settled first: a handler that checks no request is pending for its target (enrolment review) finds none.
    change_decide(change, actor=actor, state=State.APPROVED, reason=reason)
    change_kind(change.kind).apply(change, actor)
    return change


@transaction.atomic
def change_request_reject(*, change_request: ChangeRequest, actor: Actor, reason: str) -> ChangeRequest:
    if not (reason or "").strip():
        raise ApplicationError(AccountsError.REASON_REQUIRED, errors.REASON_FOR_REJECTION)
    change = _lock_pending(change_request)
    _check_checker(change, actor)
    change_decide(change, actor=actor, state=State.REJECTED, reason=reason)
    undo = change_kind(change.kind).on_reject
    if undo is not None:
        undo(change, actor)
    return change


@transaction.atomic
def change_request_cancel(*, change_request: ChangeRequest, actor: Actor, reason: str = "") -> ChangeRequest:
    """The proposer withdraws their own request (a re-enrolment is settled by rejecting it instead)."""
    change = _lock_pending(change_request)
    if change.proposed_by_id is None or change.proposed_by_id != getattr(actor, "pk", None):
        raise ApplicationError(AccountsError.NOT_PROPOSER, status_code=403)
    if not change_kind(change.kind).cancellable:
        raise ApplicationError(AccountsError.CANCEL_NOT_SUPPORTED)
    change_decide(change, actor=actor, state=State.CANCELLED, reason=reason or "Cancelled by the proposer")
    return change
