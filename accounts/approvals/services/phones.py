"""Phone changes: the new number waits for a second member of staff (it can hand the account over)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import services as account_services
from accounts.models import E164, ChangeRequest, Customer
from accounts.phones import phone_mask
from atmsite.errors import ApplicationError
from audit.actors import Actor

from ...errors import AccountsError
from .common import Kind, change_customer_pk, change_propose, refusal, stale


@transaction.atomic
def phone_change_propose(*, customer: Customer, phone: str, actor: Actor, reason: str = "") -> ChangeRequest:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    phone = (phone or "").strip()
    try:
        E164(phone)
    except ValidationError as error:
        raise refusal(error, code=AccountsError.PHONE_INVALID) from None
    if phone == customer.phone:
        raise ApplicationError(AccountsError.PHONE_UNCHANGED)
    return change_propose(
        kind=Kind.PHONE_CHANGE,
        customer=customer,
        target=f"customer:{customer.pk}",
        summary=f"Phone {phone_mask(customer.phone)} → {phone_mask(phone)}",
        payload={"phone": phone},
        baseline={"phone": customer.phone},
        actor=actor,
        reason=reason,
    )


def phone_change_approved(change: ChangeRequest, actor: Actor) -> None:
    customer = Customer.objects.select_for_update().get(pk=change_customer_pk(change))
    if customer.phone != change.baseline["phone"]:
        raise stale("The phone number")
    try:
        E164(change.payload["phone"])
    except ValidationError as error:
        raise refusal(error, code=AccountsError.PHONE_INVALID) from None
    account_services.customer_phone_change(customer=customer, phone=change.payload["phone"], actor=actor)


def phone_change_values(change: ChangeRequest) -> dict[str, Any]:
    return {
        "old": {"phone": phone_mask(change.baseline["phone"])},
        "new": {"phone": phone_mask(change.payload["phone"])},
    }
