"""Deciding a change request: approve (apply it through its domain service), reject, or cancel."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from accounts.models import ChangeRequest, Customer
from atmsite.errors import ApplicationError
from audit.actors import Actor

from ... import errors
from ...errors import AccountsError
from .accounts import account_close_approved
from .cardless import cardless_opt_in_approved, cardless_reset_approved
from .cards import card_issue_approved, card_replace_approved
from .common import APPROVE_PERMISSION, Kind, State, change_customer_pk, change_decide
from .faces import (
    biometrics_erase_approved,
    biometrics_revoke_approved,
    face_reenrol_approved,
    face_reenrol_rejected,
)
from .limits import limit_increase_approved
from .phones import phone_change_approved
from .staff import staff_grant_approved, staff_recently_granted_by

_APPLY: dict[str, Callable[[ChangeRequest, Actor], None]] = {
    Kind.PHONE_CHANGE: phone_change_approved,
    Kind.LIMIT_INCREASE: limit_increase_approved,
    Kind.CARD_ISSUE: card_issue_approved,
    Kind.CARD_REPLACE: card_replace_approved,
    Kind.BIOMETRICS_REVOKE: biometrics_revoke_approved,
    Kind.BIOMETRICS_ERASE: biometrics_erase_approved,
    Kind.FACE_REENROL: face_reenrol_approved,
    Kind.FACE_ENROL: face_reenrol_approved,
    Kind.CARDLESS_RESET: cardless_reset_approved,
    Kind.CARDLESS_OPT_IN: cardless_opt_in_approved,
    Kind.STAFF_GRANT: staff_grant_approved,
    Kind.ACCOUNT_CLOSE: account_close_approved,
}
# What a rejection must undo beyond the request itself (a re-enrolment's new templates).
_ON_REJECT: dict[str, Callable[[ChangeRequest, Actor], None]] = {
    Kind.FACE_REENROL: face_reenrol_rejected,
    Kind.FACE_ENROL: face_reenrol_rejected,
}


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


# Kinds that give someone a way into the account: pointless, and dangerous, for a customer deactivated since.
_NEEDS_ACTIVE_CUSTOMER = {
    Kind.PHONE_CHANGE,
    Kind.LIMIT_INCREASE,
    Kind.CARD_ISSUE,
    Kind.CARD_REPLACE,
    Kind.FACE_ENROL,
    Kind.FACE_REENROL,
    Kind.CARDLESS_OPT_IN,
    Kind.CARDLESS_RESET,
}


def _recheck(change: ChangeRequest) -> None:
    """What must still hold when the decision is taken, whatever the proposer saw (the kind's own stale
    checks follow in its apply function): a refusal rolls the whole approval back, nothing is applied."""
    if change.kind in _NEEDS_ACTIVE_CUSTOMER:
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
def change_request_approve(*, change_request: ChangeRequest, actor: Actor) -> ChangeRequest:
    """Apply the change through its domain service, in this transaction; refuse a stale request."""
    change = _lock_pending(change_request)
    _check_checker(change, actor)
    _recheck(change)
    # Settled first, so a domain service that settles requests itself (enrolment review) finds none pending.
    change_decide(change, actor=actor, state=State.APPROVED)
    _APPLY[change.kind](change, actor)
    return change


@transaction.atomic
def change_request_reject(*, change_request: ChangeRequest, actor: Actor, reason: str) -> ChangeRequest:
    if not (reason or "").strip():
        raise ApplicationError(AccountsError.REASON_REQUIRED, errors.REASON_FOR_REJECTION)
    change = _lock_pending(change_request)
    _check_checker(change, actor)
    change_decide(change, actor=actor, state=State.REJECTED, reason=reason)
    undo = _ON_REJECT.get(change.kind)
    if undo is not None:
        undo(change, actor)
    return change


@transaction.atomic
def change_request_cancel(*, change_request: ChangeRequest, actor: Actor, reason: str = "") -> ChangeRequest:
    """The proposer withdraws their own request (a re-enrolment is settled by rejecting it instead)."""
    change = _lock_pending(change_request)
    if change.proposed_by_id is None or change.proposed_by_id != getattr(actor, "pk", None):
        raise ApplicationError(AccountsError.NOT_PROPOSER, status_code=403)
    if change.kind in (Kind.FACE_REENROL, Kind.FACE_ENROL):
        raise ApplicationError(AccountsError.CANCEL_NOT_SUPPORTED)
    change_decide(change, actor=actor, state=State.CANCELLED, reason=reason or "Cancelled by the proposer")
    return change
