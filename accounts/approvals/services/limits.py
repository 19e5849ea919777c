"""Daily limit changes: a decrease applies at once, an increase waits for a second member of staff."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from accounts import services as account_services
from accounts.models import BankAccount, ChangeRequest
from atmsite.errors import ApplicationError
from audit.actors import Actor

from ... import errors
from ...errors import AccountsError
from .common import Kind, change_propose, stale

LIMIT_MAX = Decimal("1e9")


def limit_parse(raw: object) -> Decimal:
    try:
        limit = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError(AccountsError.LIMIT_INVALID) from None
    if not limit.is_finite() or limit < 0 or limit >= LIMIT_MAX or limit != limit.quantize(Decimal("0.01")):
        raise ApplicationError(
            AccountsError.LIMIT_INVALID,
            errors.LIMIT_OUT_OF_RANGE,
        )
    return limit


@transaction.atomic
def limit_change_propose(
    *, account: BankAccount, limit: Decimal | str, actor: Actor, reason: str = ""
) -> ChangeRequest | None:
    """A decrease (or no change) applies at once; an increase becomes a request, which is returned."""
    limit = limit_parse(limit)
    locked = BankAccount.objects.select_for_update().get(pk=account.pk)
    if limit <= locked.daily_withdrawal_limit:
        account_services.account_limit_change(account=locked, limit=limit, actor=actor)
        return None
    return change_propose(
        kind=Kind.LIMIT_INCREASE,
        customer=locked.customer,
        target=f"account:{locked.pk}",
        summary=f"Daily limit of {locked.number}: {locked.daily_withdrawal_limit} → {limit}",
        payload={"limit": str(limit)},
        baseline={"limit": str(locked.daily_withdrawal_limit)},
        actor=actor,
        reason=reason,
    )


def limit_increase_approved(change: ChangeRequest, actor: Actor) -> None:
    account = BankAccount.objects.select_for_update().get(pk=int(change.target.split(":")[1]))
    if str(account.daily_withdrawal_limit) != change.baseline["limit"]:
        raise stale("The daily limit")
    account_services.account_limit_change(
        account=account, limit=limit_parse(change.payload["limit"]), actor=actor
    )


def limit_increase_values(change: ChangeRequest) -> dict[str, Any]:
    return {
        "old": {"daily_withdrawal_limit": change.baseline["limit"]},
        "new": {"daily_withdrawal_limit": change.payload["limit"]},
    }
