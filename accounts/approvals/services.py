"""Maker-checker writes: propose, approve, reject, cancel.

One member of staff proposes; nothing changes until a *different* one holding
`accounts.approve_changerequest` approves. Approval locks the request and its target, re-validates what the
proposer saw (`baseline`) and applies the change through the domain's own service, all in one transaction
with the audit events. Phones are masked to the last four digits and card numbers are never held in clear
(a pending card issue stores the keyed HMAC and the last four digits only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import E164, BankAccount, Card, ChangeRequest, Customer
from accounts.pan import pan_hash, pan_mask, pan_validate
from accounts.phones import phone_mask
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

Kind = ChangeRequest.Kind
State = ChangeRequest.State
APPROVE_PERMISSION = "accounts.approve_changerequest"
LIMIT_MAX = Decimal("1e9")


def _refuse(error: ValidationError, *, code: str | None = None) -> ApplicationError:
    return ApplicationError(error.messages[0], code=code or error.code or "invalid")


def _stale(what: str) -> ApplicationError:
    return ApplicationError(
        f"{what} changed since this was proposed; reject it and propose again.",
        code="change_stale",
        status_code=409,
    )


def _active_template_ids(customer_id: int) -> list[int]:
    from biometrics.models import FaceTemplate

    return sorted(
        FaceTemplate.objects.filter(
            customer_id=customer_id, revoked_at__isnull=True, gallery_added_version__isnull=False
        ).values_list("pk", flat=True)
    )


def _pan_unused(pan_hmac: str) -> None:
    taken = (
        Card.objects.filter(pan_hmac=pan_hmac).exists()
        or ChangeRequest.objects.filter(
            state=State.PENDING, kind__in=[Kind.CARD_ISSUE, Kind.CARD_REPLACE], payload__pan_hmac=pan_hmac
        ).exists()
    )
    if taken:
        raise ApplicationError(
            "A card with this number is already registered or awaiting approval.",
            code="pan_duplicate",
            status_code=409,
        )


def _expiry_check(expires_on: dt.date) -> None:
    if expires_on <= timezone.localdate():
        raise ApplicationError("The expiry date must be in the future.", code="expired")


def change_request_values(change: ChangeRequest) -> dict[str, Any]:
    """Old and new values of a request as the audit trail shows them: masked, never a PAN or a full phone."""
    payload, baseline = change.payload, change.baseline
    if change.kind == Kind.PHONE_CHANGE:
        return {
            "old": {"phone": phone_mask(baseline["phone"])},
            "new": {"phone": phone_mask(payload["phone"])},
        }
    if change.kind == Kind.LIMIT_INCREASE:
        return {
            "old": {"daily_withdrawal_limit": baseline["limit"]},
            "new": {"daily_withdrawal_limit": payload["limit"]},
        }
    if change.kind == Kind.CARD_ISSUE:
        return {
            "old": {},
            "new": {
                "card": pan_mask(payload["last4"]),
                "account_id": payload["account_id"],
                "expires_on": payload["expires_on"],
            },
        }
    if change.kind == Kind.CARD_REPLACE:
        return {
            "old": {"card": pan_mask(baseline["last4"]), "status": baseline["status"]},
            "new": {"card": pan_mask(payload["last4"]), "expires_on": payload["expires_on"]},
        }
    if change.kind == Kind.FACE_REENROL:
        return {
            "old": {"active_templates": len(baseline["template_ids"])},
            "new": {"enrolment_id": payload["enrolment_id"], "templates": payload["templates"]},
        }
    if change.kind == Kind.CARDLESS_RESET:
        return {"old": {"cardless": baseline["status"]}, "new": {"cardless": "pin_pending"}}
    return {"old": {"active_templates": len(baseline["template_ids"])}, "new": {"active_templates": 0}}


def _audit(change: ChangeRequest, *, kind: str, actor: Any, outcome: str, **extra: Any) -> None:
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
            **change_request_values(change),
            **extra,
        },
    )


def _propose(
    *,
    kind: str,
    customer: Customer,
    target: str,
    summary: str,
    payload: dict[str, Any],
    baseline: dict[str, Any],
    actor: Any,
) -> ChangeRequest:
    if ChangeRequest.objects.filter(kind=kind, target=target, state=State.PENDING).exists():
        raise ApplicationError(
            "The same kind of change is already awaiting approval for this; decide or cancel that one first.",
            code="change_pending",
            status_code=409,
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
                proposed_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:  # a concurrent proposal won the partial unique constraint
        raise ApplicationError(
            "The same kind of change is already awaiting approval.", code="change_pending", status_code=409
        ) from None
    _audit(change, kind=AuditEvent.Kind.CHANGE_PROPOSED, actor=actor, outcome=AuditEvent.Outcome.INFO)
    return change


# --- proposals -------------------------------------------------------------------------------------------


@transaction.atomic
def phone_change_propose(*, customer: Customer, phone: str, actor: Any) -> ChangeRequest:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    phone = (phone or "").strip()
    try:
        E164(phone)
    except ValidationError as error:
        raise _refuse(error, code="phone_invalid") from None
    if phone == customer.phone:
        raise ApplicationError("This is already the customer's phone number.", code="phone_unchanged")
    return _propose(
        kind=Kind.PHONE_CHANGE,
        customer=customer,
        target=f"customer:{customer.pk}",
        summary=f"Phone {phone_mask(customer.phone)} → {phone_mask(phone)}",
        payload={"phone": phone},
        baseline={"phone": customer.phone},
        actor=actor,
    )


def limit_parse(raw: Any) -> Decimal:
    try:
        limit = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError("The limit is not a number.", code="limit_invalid") from None
    if not limit.is_finite() or limit < 0 or limit >= LIMIT_MAX or limit != limit.quantize(Decimal("0.01")):
        raise ApplicationError(
            "The limit must be zero or more, below 1,000,000,000, with at most two decimals.",
            code="limit_invalid",
        )
    return limit


@transaction.atomic
def limit_change_propose(*, account: BankAccount, limit: Any, actor: Any) -> ChangeRequest | None:
    """A decrease (or no change) applies at once; an increase becomes a request, which is returned."""
    limit = limit_parse(limit)
    locked = BankAccount.objects.select_for_update().get(pk=account.pk)
    if limit <= locked.daily_withdrawal_limit:
        account_services.account_limit_change(account=locked, limit=limit, actor=actor)
        return None
    return _propose(
        kind=Kind.LIMIT_INCREASE,
        customer=locked.customer,
        target=f"account:{locked.pk}",
        summary=f"Daily limit of {locked.number}: {locked.daily_withdrawal_limit} → {limit}",
        payload={"limit": str(limit)},
        baseline={"limit": str(locked.daily_withdrawal_limit)},
        actor=actor,
    )


def card_issue_check(*, customer: Customer, account: BankAccount, pan: str, expires_on: dt.date) -> str:
    """Every reason a card issue is refused, as ApplicationError (code names the field at fault); returns the
    PAN's digits. The back-office form runs it to show form errors, the proposal runs it again under lock."""
    try:
        digits = pan_validate(pan)
    except ValidationError as error:
        raise _refuse(error) from None
    if account.customer_id != customer.pk:
        raise ApplicationError("The account belongs to another customer.", code="account_owner")
    if account.status != BankAccount.Status.ACTIVE:
        raise ApplicationError("Cards are issued on active accounts only.", code="account_inactive")
    _expiry_check(expires_on)
    _pan_unused(pan_hash(digits))
    return digits


@transaction.atomic
def card_issue_propose(
    *, customer: Customer, account: BankAccount, pan: str, expires_on: dt.date, actor: Any
) -> ChangeRequest:
    locked = BankAccount.objects.select_for_update().get(pk=account.pk)
    digits = card_issue_check(customer=customer, account=locked, pan=pan, expires_on=expires_on)
    pan_hmac = pan_hash(digits)
    return _propose(
        kind=Kind.CARD_ISSUE,
        customer=customer,
        target=f"account:{locked.pk}",
        summary=f"Card {pan_mask(digits[-4:])} on {locked.number}, expires {expires_on.isoformat()}",
        payload={
            "account_id": locked.pk,
            "pan_hmac": pan_hmac,
            "last4": digits[-4:],
            "expires_on": expires_on.isoformat(),
        },
        baseline={"account_status": locked.status},
        actor=actor,
    )


def card_replace_check(*, pan: str, expires_on: dt.date) -> str:
    """What the replacement form and the proposal both refuse; returns the new PAN's digits."""
    try:
        digits = pan_validate(pan)
    except ValidationError as error:
        raise _refuse(error) from None
    _expiry_check(expires_on)
    _pan_unused(pan_hash(digits))
    return digits


@transaction.atomic
def card_replace_propose(
    *, card: Card, pan: str, expires_on: dt.date, actor: Any, reason: str = ""
) -> ChangeRequest:
    """Replace a card: on approval the old one is blocked (a stolen card stays stolen) and the new one issued
    on the same account."""
    card = Card.objects.select_for_update().select_related("account", "customer").get(pk=card.pk)
    digits = card_replace_check(pan=pan, expires_on=expires_on)
    pan_hmac = pan_hash(digits)
    return _propose(
        kind=Kind.CARD_REPLACE,
        customer=card.customer,
        target=f"card:{card.pk}",
        summary=f"Replace card {card.masked_pan} by {pan_mask(digits[-4:])}",
        payload={
            "card_id": card.pk,
            "pan_hmac": pan_hmac,
            "last4": digits[-4:],
            "expires_on": expires_on.isoformat(),
            "reason": reason.strip()[:200],
        },
        baseline={"status": card.status, "last4": card.last4},
        actor=actor,
    )


def _biometrics_propose(*, kind: str, customer: Customer, actor: Any, reason: str) -> ChangeRequest:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    template_ids = _active_template_ids(customer.pk)
    verb = "Revoke" if kind == Kind.BIOMETRICS_REVOKE else "Erase"
    return _propose(
        kind=kind,
        customer=customer,
        target=f"customer:{customer.pk}",
        summary=f"{verb} face verification ({len(template_ids)} active templates)",
        payload={"reason": reason.strip()[:200]},
        baseline={"template_ids": template_ids},
        actor=actor,
    )


@transaction.atomic
def biometrics_revoke_propose(*, customer: Customer, actor: Any, reason: str = "") -> ChangeRequest:
    return _biometrics_propose(kind=Kind.BIOMETRICS_REVOKE, customer=customer, actor=actor, reason=reason)


@transaction.atomic
def biometrics_erase_propose(*, customer: Customer, actor: Any, reason: str = "") -> ChangeRequest:
    return _biometrics_propose(kind=Kind.BIOMETRICS_ERASE, customer=customer, actor=actor, reason=reason)


def face_reenrol_propose(*, enrolment: Any, template_count: int) -> ChangeRequest:
    """Called by the enrolment service, inside its transaction, when a customer who already has active
    templates finishes a new enrolment: the new face waits for a second member of staff."""
    return _propose(
        kind=Kind.FACE_REENROL,
        customer=enrolment.customer,
        target=f"enrolment:{enrolment.pk}",
        summary=f"Replace the face with enrolment #{enrolment.pk} ({template_count} templates)",
        payload={"enrolment_id": enrolment.pk, "templates": template_count},
        baseline={"template_ids": _active_template_ids(enrolment.customer_id)},
        actor=enrolment.created_by,
    )


def face_reenrol_settle(*, enrolment: Any, actor: Any, approved: bool, note: str = "") -> None:
    """The enrolment was reviewed directly (biometrics' own review): its pending request is settled the same
    way, so the two views of one four-eyes decision never disagree. Caller holds the enrolment lock."""
    change = (
        ChangeRequest.objects.select_for_update()
        .filter(kind=Kind.FACE_REENROL, target=f"enrolment:{enrolment.pk}", state=State.PENDING)
        .first()
    )
    if change is None:
        return
    _decide(change, actor=actor, state=State.APPROVED if approved else State.REJECTED, reason=note)


@transaction.atomic
def cardless_reset_propose(*, customer: Customer, actor: Any) -> ChangeRequest:
    """Re-open card-less cash disabled by wrong PINs; once approved the customer sets a new PIN."""
    from kiosk.models import CardlessAccess

    access = CardlessAccess.objects.select_for_update().filter(customer=customer).first()
    if access is None or access.status != CardlessAccess.Status.DISABLED:
        raise ApplicationError(
            "Card-less cash is not disabled for this customer.", code="cardless_not_disabled"
        )
    return _propose(
        kind=Kind.CARDLESS_RESET,
        customer=customer,
        target=f"cardless:{access.pk}",
        summary="Reset card-less cash (disabled after wrong PINs); the customer sets a new PIN",
        payload={"access_id": access.pk},
        baseline={
            "status": access.status,
            "disabled_at": access.disabled_at.isoformat() if access.disabled_at else "",
        },
        actor=actor,
    )


# --- applying an approved request -------------------------------------------------------------------------


def _apply_cardless_reset(change: ChangeRequest, actor: Any) -> None:
    from kiosk.models import CardlessAccess
    from kiosk.services.cardless import cardless_reset_apply

    access = CardlessAccess.objects.get(pk=change.payload["access_id"])
    cardless_reset_apply(access=access, actor=actor)


def _apply_phone(change: ChangeRequest, actor: Any) -> None:
    customer = Customer.objects.select_for_update().get(pk=change.customer_id)
    if customer.phone != change.baseline["phone"]:
        raise _stale("The phone number")
    try:
        E164(change.payload["phone"])
    except ValidationError as error:
        raise _refuse(error, code="phone_invalid") from None
    account_services.customer_phone_change(customer=customer, phone=change.payload["phone"], actor=actor)


def _apply_limit(change: ChangeRequest, actor: Any) -> None:
    account = BankAccount.objects.select_for_update().get(pk=int(change.target.split(":")[1]))
    if str(account.daily_withdrawal_limit) != change.baseline["limit"]:
        raise _stale("The daily limit")
    account_services.account_limit_change(
        account=account, limit=limit_parse(change.payload["limit"]), actor=actor
    )


def _card_register(change: ChangeRequest, account: BankAccount, actor: Any) -> Card:
    payload = change.payload
    expires_on = dt.date.fromisoformat(payload["expires_on"])
    _expiry_check(expires_on)
    if Card.objects.filter(pan_hmac=payload["pan_hmac"]).exists():
        raise ApplicationError(
            "A card with this number was registered meanwhile.", code="pan_duplicate", status_code=409
        )
    try:
        return account_services.card_register(
            customer=account.customer,
            account=account,
            pan_hmac=payload["pan_hmac"],
            last4=payload["last4"],
            expires_on=expires_on,
            actor=actor,
        )
    except ValidationError as error:
        raise _refuse(error) from None


def _apply_card_issue(change: ChangeRequest, actor: Any) -> None:
    account = (
        BankAccount.objects.select_for_update()
        .select_related("customer")
        .get(pk=change.payload["account_id"])
    )
    if account.customer_id != change.customer_id or account.status != change.baseline["account_status"]:
        raise _stale("The account")
    _card_register(change, account, actor)


def _apply_card_replace(change: ChangeRequest, actor: Any) -> None:
    old = Card.objects.select_for_update().get(pk=change.payload["card_id"])
    if old.status != change.baseline["status"]:
        raise _stale("The card's status")
    account = BankAccount.objects.select_for_update().select_related("customer").get(pk=old.account_id)
    new = _card_register(change, account, actor)
    if old.status != Card.Status.STOLEN:
        account_services.card_block(card=old, reason=f"Replaced by {new.masked_pan}", actor=actor)


def _lock_customer_with_same_face(change: ChangeRequest) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=change.customer_id)
    if _active_template_ids(customer.pk) != change.baseline["template_ids"]:
        raise _stale("The customer's active face templates")
    return customer


def _apply_revoke(change: ChangeRequest, actor: Any) -> None:
    from biometrics.services.templates import biometrics_revoke

    customer = _lock_customer_with_same_face(change)
    biometrics_revoke(customer=customer, actor=actor, reason=change.payload.get("reason", ""))


def _apply_erase(change: ChangeRequest, actor: Any) -> None:
    from biometrics.services.templates import biometrics_erase

    biometrics_erase(customer=_lock_customer_with_same_face(change), actor=actor)


def _face_enrolment(change: ChangeRequest) -> Any:
    from biometrics.models import Enrolment

    enrolment = Enrolment.objects.select_for_update().get(pk=change.payload["enrolment_id"])
    if enrolment.status != Enrolment.Status.NEEDS_REVIEW:
        raise _stale("The enrolment")
    return enrolment


def _apply_face(change: ChangeRequest, actor: Any) -> None:
    from biometrics.services.enrollment import enrolment_review

    enrolment = _face_enrolment(change)
    _lock_customer_with_same_face(change)
    enrolment_review(enrolment=enrolment, actor=actor, approve=True, note=f"Change request #{change.pk}")


def _reject_face(change: ChangeRequest, actor: Any) -> None:
    from biometrics.services.enrollment import enrolment_review

    enrolment_review(
        enrolment=_face_enrolment(change), actor=actor, approve=False, note=change.reason or "Rejected"
    )


_APPLY: dict[str, Callable[[ChangeRequest, Any], None]] = {
    Kind.PHONE_CHANGE: _apply_phone,
    Kind.LIMIT_INCREASE: _apply_limit,
    Kind.CARD_ISSUE: _apply_card_issue,
    Kind.CARD_REPLACE: _apply_card_replace,
    Kind.BIOMETRICS_REVOKE: _apply_revoke,
    Kind.BIOMETRICS_ERASE: _apply_erase,
    Kind.FACE_REENROL: _apply_face,
    Kind.CARDLESS_RESET: _apply_cardless_reset,
}
# What a rejection must undo beyond the request itself (a re-enrolment's new templates).
_ON_REJECT: dict[str, Callable[[ChangeRequest, Any], None]] = {Kind.FACE_REENROL: _reject_face}


# --- deciding --------------------------------------------------------------------------------------------


def _lock_pending(change_request: ChangeRequest) -> ChangeRequest:
    # The row lock makes a decision single: two approvers clicking at once cannot apply a change twice.
    change = (
        ChangeRequest.objects.select_for_update(of=("self",))
        .select_related("proposed_by")
        .get(pk=change_request.pk)
    )
    if change.state != State.PENDING:
        raise ApplicationError(
            f"This request is already {change.get_state_display().lower()}.",
            code="change_not_pending",
            status_code=409,
        )
    return change


def _check_checker(change: ChangeRequest, actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ApplicationError(
            "Only a member of staff can decide.", code="approve_permission", status_code=403
        )
    if change.proposed_by_id is not None and change.proposed_by_id == actor.pk:
        # No exception for superusers: four eyes means two people.
        raise ApplicationError(
            "You proposed this change; another member of staff must decide it.",
            code="four_eyes",
            status_code=403,
        )
    if not actor.has_perm(APPROVE_PERMISSION):
        raise ApplicationError(
            "You may not approve or reject changes.", code="approve_permission", status_code=403
        )


def _decide(change: ChangeRequest, *, actor: Any, state: str, reason: str = "") -> None:
    # A cancellation is the proposer's own act, not a decision by a second person: no decided_by.
    decider = None if state == State.CANCELLED else actor
    change.state, change.decided_by, change.decided_at = state, decider, timezone.now()
    change.reason = reason.strip()[:300]
    change.save(update_fields=["state", "decided_by", "decided_at", "reason"])
    kinds: dict[str, str] = {
        State.APPROVED: AuditEvent.Kind.CHANGE_APPROVED,
        State.REJECTED: AuditEvent.Kind.CHANGE_REJECTED,
        State.CANCELLED: AuditEvent.Kind.CHANGE_CANCELLED,
    }
    kind = kinds[state]
    outcome = AuditEvent.Outcome.SUCCESS if state == State.APPROVED else AuditEvent.Outcome.INFO
    _audit(change, kind=kind, actor=actor, outcome=outcome, reason=change.reason)


@transaction.atomic
def change_request_approve(*, change_request: ChangeRequest, actor: Any) -> ChangeRequest:
    """Apply the change through its domain service, in this transaction; refuse a stale request."""
    change = _lock_pending(change_request)
    _check_checker(change, actor)
    # Settled first, so a domain service that settles requests itself (enrolment review) finds none pending.
    _decide(change, actor=actor, state=State.APPROVED)
    _APPLY[change.kind](change, actor)
    return change


@transaction.atomic
def change_request_reject(*, change_request: ChangeRequest, actor: Any, reason: str) -> ChangeRequest:
    if not (reason or "").strip():
        raise ApplicationError("Give the reason for the rejection.", code="reason_required")
    change = _lock_pending(change_request)
    _check_checker(change, actor)
    _decide(change, actor=actor, state=State.REJECTED, reason=reason)
    undo = _ON_REJECT.get(change.kind)
    if undo is not None:
        undo(change, actor)
    return change


@transaction.atomic
def change_request_cancel(*, change_request: ChangeRequest, actor: Any, reason: str = "") -> ChangeRequest:
    """The proposer withdraws their own request (a re-enrolment is settled by rejecting it instead)."""
    change = _lock_pending(change_request)
    if change.proposed_by_id is None or change.proposed_by_id != getattr(actor, "pk", None):
        raise ApplicationError(
            "Only the proposer can cancel a request.", code="not_proposer", status_code=403
        )
    if change.kind == Kind.FACE_REENROL:
        raise ApplicationError(
            "A re-enrolment is approved or rejected by a second member of staff.", code="cancel_not_supported"
        )
    _decide(change, actor=actor, state=State.CANCELLED, reason=reason or "Cancelled by the proposer")
    return change
