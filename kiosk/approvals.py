"""Card-less cash under four eyes: opting in and the reset after wrong PINs. Each re-opens a way to take cash
with a phone number, a face and a PIN, so each waits for a second member of staff; the customer sets the PIN
after.

Kiosk owns these kinds: it proposes them through accounts.approvals and registers what approving and showing
them does (`kiosk_change_kinds_register`, from KioskConfig.ready).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.approvals.services import (
    Row,
    change_customer_pk,
    change_kind_register,
    change_propose,
    reason_check,
    stale,
)
from accounts.errors import AccountsError
from accounts.models import BankAccount, ChangeRequest, Customer
from atmsite.errors import ApplicationError
from audit.actors import Actor
from biometrics.approvals import active_template_ids

from . import locks
from .models import CardlessAccess

Kind = ChangeRequest.Kind


@transaction.atomic
def cardless_opt_in_propose(
    *, customer: Customer, account: BankAccount, consent: bool, actor: Actor, reason: str = ""
) -> ChangeRequest:
    """Propose card-less cash for a customer (consent taken by the proposer). Once a second member of staff
    approves, the customer sets the PIN on the branch PIN pad."""
    from .services import cardless

    customer = locks.customer_lock(customer)
    cardless.cardless_opt_in_check(customer=customer, account=account, consent=consent)
    access = CardlessAccess.objects.filter(customer=customer).first()
    return change_propose(
        kind=Kind.CARDLESS_OPT_IN,
        customer=customer,
        target=f"customer:{customer.pk}",
        summary=f"Card-less cash from {account.number}",
        payload={"account_id": account.pk},
        baseline={
            "status": access.status if access is not None else "none",
            "template_ids": active_template_ids(customer.pk),
            "account_status": account.status,
        },
        actor=actor,
        reason=reason_check(reason),
    )


def cardless_opt_in_approved(change: ChangeRequest, actor: Actor) -> None:
    from .services import cardless

    # The documented order (kiosk/locks.py): customer, account, then the card-less access row.
    customer = locks.customer_lock(Customer(pk=change_customer_pk(change)))
    account = locks.account_lock(change.payload["account_id"])
    access = locks.cardless_access_find_lock(customer_id=customer.pk)
    status = access.status if access is not None else "none"
    if status != change.baseline["status"]:
        raise stale("The customer's card-less access")
    if active_template_ids(customer.pk) != change.baseline["template_ids"]:
        raise stale("The customer's active face templates")
    cardless.cardless_opt_in(
        customer=customer, account=account, consent=True, actor=actor, consent_by=change.proposed_by
    )


@transaction.atomic
def cardless_reset_propose(*, customer: Customer, actor: Actor, reason: str = "") -> ChangeRequest:
    """Re-open card-less cash disabled by wrong PINs; once approved the customer sets a new PIN. Also for a
    customer who opted out while disabled: the disablement survives the opt-out until this reset."""
    access = locks.cardless_access_find_lock(customer_id=customer.pk)
    if access is None or not (access.status == CardlessAccess.Status.DISABLED or access.pin_reset_required):
        raise ApplicationError(AccountsError.CARDLESS_NOT_DISABLED)
    return change_propose(
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
        reason=reason,
    )


def cardless_reset_approved(change: ChangeRequest, actor: Actor) -> None:
    from .services.cardless import cardless_reset_apply

    access = CardlessAccess.objects.get(pk=change.payload["access_id"])
    cardless_reset_apply(access=access, actor=actor)


def _cardless_status(raw: object) -> str:
    if raw == "none":  # never opted in
        return "—"
    # The field's choices, not the enum's: accounts.verbose_names gives the field translated labels.
    choices = getattr(CardlessAccess._meta.get_field("status"), "choices", None) or []
    return str(dict(choices).get(str(raw), raw))


def _opt_in_values(change: ChangeRequest) -> dict[str, Any]:
    return {
        "old": {"cardless": change.baseline["status"]},
        "new": {"cardless": "pin_pending", "account_id": change.payload["account_id"]},
    }


def _reset_values(change: ChangeRequest) -> dict[str, Any]:
    return {"old": {"cardless": change.baseline["status"]}, "new": {"cardless": "pin_pending"}}


def _status_rows(change: ChangeRequest) -> list[Row]:
    return [
        Row(_("Card-less cash"), _cardless_status(change.baseline["status"]), _cardless_status("pin_pending"))
    ]


def _opt_in_rows(change: ChangeRequest) -> list[Row]:
    account = BankAccount.objects.filter(pk=change.payload["account_id"]).first()
    shown = str(account) if account is not None else "—"
    return [*_status_rows(change), Row(_("Account"), shown, shown)]


def kiosk_change_kinds_register() -> None:
    change_kind_register(
        Kind.CARDLESS_OPT_IN,
        apply=cardless_opt_in_approved,
        values=_opt_in_values,
        rows=_opt_in_rows,
        needs_active_customer=True,
    )
    change_kind_register(
        Kind.CARDLESS_RESET,
        apply=cardless_reset_approved,
        values=_reset_values,
        rows=_status_rows,
        needs_active_customer=True,
    )
