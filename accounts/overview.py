"""Customer 360 (issue 23 item 4): one read of everything staff need about a customer, each row linking to
its detail. A selector: reads only, masked as the staff screens are (no PAN in clear)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from accounts.models import BankAccount, Card, ChangeRequest, Customer, Transaction

LAST = 10


@dataclass(frozen=True)
class CustomerOverview:
    customer: Customer
    accounts: list[BankAccount]
    cards: list[Card]
    biometrics: Any  # biometrics.selectors.BiometricStatus
    cardless: Any  # kiosk.models.CardlessAccess | None
    pending: list[ChangeRequest]
    sessions: list[Any]  # kiosk.models.KioskSession
    transactions: list[Transaction]
    snapshots: list[Any]  # audit.models.AuditSnapshot


def customer_overview(*, customer: Customer) -> CustomerOverview:
    from audit.models import AuditSnapshot
    from biometrics.selectors import customer_biometric_status
    from kiosk.models import CardlessAccess, KioskSession

    cards = list(customer.cards.select_related("account").order_by("-created_at"))
    card_ids = [card.pk for card in cards]
    sessions = (
        KioskSession.objects.filter(Q(card_id__in=card_ids) | Q(customer=customer))
        .select_related("kiosk", "card")
        .order_by("-created_at")[:LAST]
    )
    return CustomerOverview(
        customer=customer,
        accounts=list(customer.accounts.order_by("number")),
        cards=cards,
        biometrics=customer_biometric_status(customer=customer),
        cardless=CardlessAccess.objects.select_related("account").filter(customer=customer).first(),
        pending=list(
            ChangeRequest.objects.filter(customer=customer, state=ChangeRequest.State.PENDING).select_related(
                "proposed_by"
            )
        ),
        sessions=list(sessions),
        transactions=list(
            Transaction.objects.filter(account__customer=customer)
            .select_related("account", "kiosk")
            .order_by("-created_at")[:LAST]
        ),
        snapshots=list(
            AuditSnapshot.objects.filter(event__customer_id=customer.pk)
            .select_related("event")
            .order_by("-created_at")[:LAST]
        ),
    )
