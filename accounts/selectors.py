"""Reads for customers, cards and the ledger."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone

from atmsite.errors import ApplicationError

from .models import BankAccount, Card, Transaction
from .pan import pan_hash, pan_validate


def card_get_by_pan(*, pan: str) -> Card:
    """The card for a typed or read PAN; unknown numbers and invalid ones get the same kind of refusal."""
    from django.core.exceptions import ValidationError

    try:
        digits = pan_validate(pan)
    except ValidationError as error:
        raise ApplicationError(error.messages[0], code="card_invalid") from None
    card = Card.objects.select_related("customer", "account").filter(pan_hmac=pan_hash(digits)).first()
    if card is None:
        raise ApplicationError("This card is not known to the bank.", code="card_unknown", status_code=404)
    return card


def account_withdrawn_today(*, account: BankAccount) -> Decimal:
    """Withdrawn since midnight in the bank's time zone (TIME_ZONE): what the daily limit counts."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    total = account.transactions.filter(kind=Transaction.Kind.WITHDRAWAL, created_at__gte=start).aggregate(
        total=Sum("amount")
    )["total"]
    return total or Decimal("0")


def transactions_recent(*, account: BankAccount, limit: int = 10) -> QuerySet[Transaction]:
    return account.transactions.select_related("kiosk").order_by("-created_at", "-id")[:limit]


def account_deposits_today(*, account: BankAccount) -> int:
    """Deposits credited since midnight in the bank's time zone: what the daily deposit count limits."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return account.transactions.filter(kind=Transaction.Kind.DEPOSIT, created_at__gte=start).count()
