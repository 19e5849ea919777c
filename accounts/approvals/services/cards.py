"""Card issues and replacements: the number is held only as its keyed hash and last four digits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import BankAccount, Card, ChangeRequest, Customer
from accounts.pan import pan_hash, pan_mask, pan_validate
from atmsite.errors import ApplicationError
from audit.actors import Actor

from ... import errors
from ...errors import AccountsError
from .common import Kind, State, change_propose, refusal, stale


def _pan_unused(pan_hmac: str) -> None:
    taken = (
        Card.objects.filter(pan_hmac=pan_hmac).exists()
        or ChangeRequest.objects.filter(
            state=State.PENDING, kind__in=[Kind.CARD_ISSUE, Kind.CARD_REPLACE], payload__pan_hmac=pan_hmac
        ).exists()
    )
    if taken:
        raise ApplicationError(AccountsError.PAN_DUPLICATE, status_code=409)


def _expiry_check(expires_on: dt.date) -> None:
    if expires_on <= timezone.localdate():
        raise ApplicationError(AccountsError.EXPIRED)


def _new_card(digits: str, expires_on: dt.date) -> dict[str, str]:
    """What a pending card request keeps of the new card: keyed hash and last four digits, not the number."""
    return {"pan_hmac": pan_hash(digits), "last4": digits[-4:], "expires_on": expires_on.isoformat()}


def card_issue_check(*, customer: Customer, account: BankAccount, pan: str, expires_on: dt.date) -> str:
    """Every reason a card issue is refused, as ApplicationError (code names the field at fault); returns the
    PAN's digits. The back-office form runs it to show form errors, the proposal runs it again under lock."""
    try:
        digits = pan_validate(pan)
    except ValidationError as error:
        raise refusal(error) from None
    if account.customer_id != customer.pk:
        raise ApplicationError(AccountsError.ACCOUNT_OWNER)
    if account.status != BankAccount.Status.ACTIVE:
        raise ApplicationError(AccountsError.ACCOUNT_INACTIVE, errors.ACCOUNT_INACTIVE_FOR_CARDS)
    _expiry_check(expires_on)
    _pan_unused(pan_hash(digits))
    return digits


@transaction.atomic
def card_issue_propose(
    *, customer: Customer, account: BankAccount, pan: str, expires_on: dt.date, actor: Actor, reason: str = ""
) -> ChangeRequest:
    locked = BankAccount.objects.select_for_update().get(pk=account.pk)
    digits = card_issue_check(customer=customer, account=locked, pan=pan, expires_on=expires_on)
    return change_propose(
        kind=Kind.CARD_ISSUE,
        customer=customer,
        target=f"account:{locked.pk}",
        summary=f"Card {pan_mask(digits[-4:])} on {locked.number}, expires {expires_on.isoformat()}",
        payload={"account_id": locked.pk, **_new_card(digits, expires_on)},
        baseline={"account_status": locked.status},
        actor=actor,
        reason=reason,
    )


def card_replace_check(*, pan: str, expires_on: dt.date) -> str:
    """What the replacement form and the proposal both refuse; returns the new PAN's digits."""
    try:
        digits = pan_validate(pan)
    except ValidationError as error:
        raise refusal(error) from None
    _expiry_check(expires_on)
    _pan_unused(pan_hash(digits))
    return digits


@transaction.atomic
def card_replace_propose(
    *, card: Card, pan: str, expires_on: dt.date, actor: Actor, reason: str = ""
) -> ChangeRequest:
    """Replace a card: on approval the old one is blocked (a stolen card stays stolen) and the new one issued
    on the same account."""
    card = Card.objects.select_for_update().select_related("account", "customer").get(pk=card.pk)
    digits = card_replace_check(pan=pan, expires_on=expires_on)
    return change_propose(
        kind=Kind.CARD_REPLACE,
        customer=card.customer,
        target=f"card:{card.pk}",
        summary=f"Replace card {card.masked_pan} by {pan_mask(digits[-4:])}",
        payload={"card_id": card.pk, **_new_card(digits, expires_on), "reason": reason.strip()[:200]},
        baseline={"status": card.status, "last4": card.last4},
        actor=actor,
        reason=reason,
    )


def _card_register(change: ChangeRequest, account: BankAccount, actor: Actor) -> Card:
    payload = change.payload
    expires_on = dt.date.fromisoformat(payload["expires_on"])
    _expiry_check(expires_on)
    if Card.objects.filter(pan_hmac=payload["pan_hmac"]).exists():
        raise ApplicationError(AccountsError.PAN_DUPLICATE, errors.PAN_DUPLICATE_MEANWHILE, status_code=409)
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
        raise refusal(error) from None


def card_issue_approved(change: ChangeRequest, actor: Actor) -> None:
    account = (
        BankAccount.objects.select_for_update()
        .select_related("customer")
        .get(pk=change.payload["account_id"])
    )
    if account.customer_id != change.customer_id or account.status != change.baseline["account_status"]:
        raise stale("The account")
    _card_register(change, account, actor)


def card_replace_approved(change: ChangeRequest, actor: Actor) -> None:
    old = Card.objects.select_for_update().get(pk=change.payload["card_id"])
    if old.status != change.baseline["status"]:
        raise stale("The card's status")
    account = BankAccount.objects.select_for_update().select_related("customer").get(pk=old.account_id)
    new = _card_register(change, account, actor)
    if old.status != Card.Status.STOLEN:
        account_services.card_block(card=old, reason=f"Replaced by {new.masked_pan}", actor=actor)


def card_issue_values(change: ChangeRequest) -> dict[str, Any]:
    payload = change.payload
    return {
        "old": {},
        "new": {
            "card": pan_mask(payload["last4"]),
            "account_id": payload["account_id"],
            "expires_on": payload["expires_on"],
        },
    }


def card_replace_values(change: ChangeRequest) -> dict[str, Any]:
    payload, baseline = change.payload, change.baseline
    return {
        "old": {"card": pan_mask(baseline["last4"]), "status": baseline["status"]},
        "new": {"card": pan_mask(payload["last4"]), "expires_on": payload["expires_on"]},
    }
