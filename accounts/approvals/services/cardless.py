"""Card-less cash: opting in and the reset after wrong PINs. Each re-opens a way to take cash with a phone
number, a face and a PIN, so each waits for a second member of staff; the customer sets the PIN after."""

from __future__ import annotations

from django.db import transaction

from accounts.errors import AccountsError
from accounts.models import BankAccount, ChangeRequest, Customer
from atmsite.errors import ApplicationError
from audit.actors import Actor

from .common import Kind, active_template_ids, change_customer_pk, change_propose, reason_check, stale


@transaction.atomic
def cardless_opt_in_propose(
    *, customer: Customer, account: BankAccount, consent: bool, actor: Actor, reason: str = ""
) -> ChangeRequest:
    """Propose card-less cash for a customer (consent taken by the proposer). Once a second member of staff
    approves, the customer sets the PIN on the branch PIN pad."""
    from kiosk.models import CardlessAccess
    from kiosk.services import cardless

    customer = Customer.objects.select_for_update().get(pk=customer.pk)
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
    from kiosk.models import CardlessAccess
    from kiosk.services import cardless

    customer = Customer.objects.select_for_update().get(pk=change_customer_pk(change))
    account = BankAccount.objects.select_for_update().get(pk=change.payload["account_id"])
    access = CardlessAccess.objects.select_for_update().filter(customer=customer).first()
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
    from kiosk.models import CardlessAccess

    access = CardlessAccess.objects.select_for_update().filter(customer=customer).first()
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
    from kiosk.models import CardlessAccess
    from kiosk.services.cardless import cardless_reset_apply

    access = CardlessAccess.objects.get(pk=change.payload["access_id"])
    cardless_reset_apply(access=access, actor=actor)
