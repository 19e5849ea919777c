"""Writes for cards: issue (by number or by keyed hash), block, unblock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from atmsite.errors import ApplicationError
from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record

from .. import errors
from ..errors import AccountsError
from ..models import BankAccount, Card, Customer
from ..notices import Notice, customer_notice
from ..pan import pan_hash, pan_validate


@dataclass(frozen=True)
class CardCounters:
    """The kiosk's per-card counters (face lock, code pauses, mismatch evidence), which staff decisions here
    clear inside their own transaction. kiosk keeps them and registers these from its AppConfig.ready:
    accounts cannot import kiosk. Each locks the counters row, so call it before locking the card (the lock
    order is card security → card everywhere)."""

    reset: Callable[[Card], dict[str, Any]]  # every counter; returns the previous values that were not clear
    face_lock_clear: Callable[
        [Card], dt.datetime | None
    ]  # only the face lock; returns when it would have ended


_card_counters: list[CardCounters] = []


def card_counters_register(counters: CardCounters) -> None:
    if _card_counters:
        raise ImproperlyConfigured("The card counters are already registered")
    _card_counters.append(counters)


def _counters() -> CardCounters:
    # Never skipped silently: an unblock that left a lock or a pause behind would re-block on the next slip.
    if not _card_counters:
        raise ImproperlyConfigured("No app registered the card counters (kiosk registers them when ready)")
    return _card_counters[0]


def _card_event(card: Card, *, kind: str, actor: Actor, data: dict) -> None:
    """A decision about one card, audited in the caller's transaction (the last 4 digits, never the PAN)."""
    audit_event_record(
        kind=kind,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=card.customer_id,
        card_last4=card.last4,
        data=data,
    )


@transaction.atomic
def card_issue(
    *, customer: Customer, account: BankAccount, pan: str, expires_on: dt.date, actor: Actor = None
) -> Card:
    """Register a card by its number; only the keyed hash and the last four digits are kept."""
    digits = pan_validate(pan)
    return card_register(
        customer=customer,
        account=account,
        pan_hmac=pan_hash(digits),
        last4=digits[-4:],
        expires_on=expires_on,
        actor=actor,
    )


@transaction.atomic
def card_register(
    *,
    customer: Customer,
    account: BankAccount,
    pan_hmac: str,
    last4: str,
    expires_on: dt.date,
    actor: Actor = None,
) -> Card:
    """Create a card from its keyed hash (an approved card issue never held the number in clear)."""
    if account.customer_id != customer.pk:
        raise AccountsError.ACCOUNT_OWNER.invalid()
    if expires_on <= timezone.localdate():
        raise AccountsError.EXPIRED.invalid()
    card = Card(customer=customer, account=account, pan_hmac=pan_hmac, last4=last4, expires_on=expires_on)
    try:
        with transaction.atomic():
            card.save()
    except IntegrityError:
        raise AccountsError.PAN_DUPLICATE.invalid(errors.PAN_DUPLICATE_REGISTERED) from None
    _card_event(
        card,
        kind=AuditEvent.Kind.CARD_ISSUED,
        actor=actor,
        data={"card_id": card.pk, "account": account.number, "expires_on": expires_on.isoformat()},
    )
    customer_notice(customer=customer, notice=Notice.CARD_ADDED, last4=card.last4)
    return card


@transaction.atomic
def card_block(*, card: Card, reason: str, status: str = Card.Status.BLOCKED, actor: Actor = None) -> Card:
    # Lock so a concurrent kiosk session start sees the block or runs entirely before it.
    card = Card.objects.select_for_update().get(pk=card.pk)
    if status not in (Card.Status.BLOCKED, Card.Status.STOLEN):
        raise AccountsError.STATUS.invalid()
    card.status, card.blocked_reason = status, reason[:200]
    card.save(update_fields=["status", "blocked_reason"])
    _card_event(
        card,
        kind=AuditEvent.Kind.CARD_BLOCKED,
        actor=actor,
        data={"card_id": card.pk, "status": status, "reason": card.blocked_reason},
    )
    return card


FACE_LOCK_RESET_PERMISSION = "accounts.reset_face_lock"


@transaction.atomic
def card_face_lock_reset(*, card: Card, reason: str, actor: Actor) -> Card:
    """Lift the face lock of an active card (the customer showed ID at the branch), with a reason, audited.

    Only the face counters: the code path's cool-down and the mismatch evidence stay, since they are about
    someone else at the card. Unblocking a blocked card (card_unblock) already resets every counter.
    """
    if actor is None or not getattr(actor, "has_perm", lambda _p: False)(FACE_LOCK_RESET_PERMISSION):
        raise ApplicationError(AccountsError.FACE_LOCK_RESET_PERMISSION, status_code=403)
    text = (reason or "").strip()
    if not text:
        raise ApplicationError(AccountsError.REASON_REQUIRED, errors.REASON_FOR_FACE_LOCK_RESET)
    # Counters first, then the card: the same lock order as the kiosk (card security → card). A refusal
    # below rolls the cleared counters back with the rest.
    previous = _counters().face_lock_clear(card)
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.status != Card.Status.ACTIVE:
        raise ApplicationError(AccountsError.CARD_NOT_ACTIVE, status_code=409)
    _card_event(
        card,
        kind=AuditEvent.Kind.FACE_LOCK_RESET,
        actor=actor,
        data={
            "card_id": card.pk,
            "face_locked_until": previous.isoformat() if previous else None,
            "reason": text[:200],
        },
    )
    return card


@transaction.atomic
def card_unblock(*, card: Card, actor: Actor = None) -> Card:
    """Staff decision: the card works again with a clean slate (every kiosk counter reset), as one event.

    A counter left behind (a run of wrong codes, say) would re-block or re-lock the card on the next slip.
    """
    # Counters first, then the card: the same lock order as the kiosk (card security → card).
    reset = _counters().reset(card)
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.status == Card.Status.STOLEN:
        raise AccountsError.CARD_STOLEN.invalid()
    previous_status = card.status
    card.status, card.blocked_reason = Card.Status.ACTIVE, ""
    card.save(update_fields=["status", "blocked_reason"])
    _card_event(
        card,
        kind=AuditEvent.Kind.CARD_UNBLOCKED,
        actor=actor,
        data={"card_id": card.pk, "previous_status": previous_status, "reset": reset},
    )
    return card


# Marks a block the customer put on their own card in the portal: only such a block can be lifted by the
# customer (a staff or security block needs the branch).
CUSTOMER_FREEZE_REASON = "Frozen by the customer"


@transaction.atomic
def card_freeze(*, card: Card, actor: Actor) -> Card:
    """The customer's own freeze, at once. A card already blocked (by staff or security) stays as it is."""
    # Lock so a kiosk session starting now sees the freeze or runs entirely before it.
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.status != Card.Status.ACTIVE:
        return card
    card.status, card.blocked_reason = Card.Status.BLOCKED, CUSTOMER_FREEZE_REASON
    card.save(update_fields=["status", "blocked_reason"])
    _card_event(
        card,
        kind=AuditEvent.Kind.CARD_BLOCKED,
        actor=actor,
        data={"card_id": card.pk, "status": card.status, "reason": CUSTOMER_FREEZE_REASON},
    )
    return card


@transaction.atomic
def card_unfreeze(*, card: Card, actor: Actor) -> Card:
    """Lift the customer's own freeze. Unlike card_unblock, no kiosk counter is reset: a freeze cannot be
    used to clear a face or code lock-out."""
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.status != Card.Status.BLOCKED or card.blocked_reason != CUSTOMER_FREEZE_REASON:
        raise AccountsError.NOT_FROZEN.invalid()
    if card.expires_on < timezone.localdate():
        raise AccountsError.EXPIRED.invalid(errors.CARD_EXPIRED)
    card.status, card.blocked_reason = Card.Status.ACTIVE, ""
    card.save(update_fields=["status", "blocked_reason"])
    _card_event(
        card,
        kind=AuditEvent.Kind.CARD_UNBLOCKED,
        actor=actor,
        data={"card_id": card.pk, "previous_status": Card.Status.BLOCKED, "reason": "customer unfreeze"},
    )
    return card
