"""Closing an account: a zero balance and a second member of staff."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts import services as account_services
from accounts.models import BankAccount, ChangeRequest
from audit.actors import Actor

from .common import Kind, change_propose, stale


@transaction.atomic
def account_close_propose(*, account: BankAccount, actor: Actor, reason: str = "") -> ChangeRequest:
    locked = BankAccount.objects.select_for_update().select_related("customer").get(pk=account.pk)
    account_services.account_close_check(locked)
    return change_propose(
        kind=Kind.ACCOUNT_CLOSE,
        customer=locked.customer,
        target=f"account:{locked.pk}",
        summary=f"Close {locked.number}",
        payload={"account_id": locked.pk},
        baseline={"status": locked.status, "balance": str(locked.balance)},
        actor=actor,
        reason=reason,
    )


def account_close_approved(change: ChangeRequest, actor: Actor) -> None:
    account = BankAccount.objects.select_for_update().get(pk=change.payload["account_id"])
    if account.status != change.baseline["status"]:
        raise stale("The account's status")
    # account_close re-checks the balance under this lock: money that came in since is never closed away.
    account_services.account_close(account=account, actor=actor)


def account_close_values(change: ChangeRequest) -> dict[str, Any]:
    return {
        "old": {"account_status": change.baseline["status"], "balance": change.baseline["balance"]},
        "new": {"account_status": "closed"},
    }
