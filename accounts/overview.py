"""Reads for Customer 360: everything a clerk needs about one customer on one page (no writes).

The snapshots of failed checks are listed only for holders of audit.view_snapshot; decrypting their
thumbnails (and auditing that a face was shown) is the view's business, through audit's own helpers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from .models import BankAccount, Card, ChangeRequest, Customer, Transaction

VIEW_SNAPSHOT = "audit.view_snapshot"
SESSIONS_SHOWN = 10
TRANSACTIONS_SHOWN = 10
SNAPSHOTS_SHOWN = 8


@dataclass
class CustomerOverview:
    customer: Customer
    accounts: list[BankAccount]
    cards: list[Card]
    biometric: Any  # biometrics.selectors.BiometricStatus
    enrolment: Any  # the newest biometrics Enrolment, or None
    cardless: Any  # kiosk CardlessAccess, or None
    pending_requests: list[ChangeRequest]
    sessions: list[Any]  # kiosk sessions, newest first
    transactions: list[Transaction]
    snapshots: list[Any] = field(default_factory=list)  # audit snapshots, only with VIEW_SNAPSHOT


def customer_sessions_recent(*, customer: Customer, limit: int = SESSIONS_SHOWN) -> list[Any]:
    """The customer's last kiosk sessions: at one of their cards, or card-less once decided as them."""
    from kiosk.models import KioskSession

    return list(
        KioskSession.objects.filter(Q(card__customer=customer) | Q(customer=customer))
        .select_related("kiosk", "card")
        .order_by("-created_at")[:limit]
    )


def customer_snapshots_recent(*, customer: Customer, limit: int = SNAPSHOTS_SHOWN) -> list[Any]:
    """Snapshots of failed checks on the customer's cards (the audit event carries the card's owner)."""
    from audit.models import AuditSnapshot

    return list(
        AuditSnapshot.objects.filter(event__customer_id=customer.pk, purged_at__isnull=True)
        .select_related("event")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_overview(*, customer: Customer, user: Any) -> CustomerOverview:
    from biometrics.models import Enrolment
    from biometrics.selectors import customer_biometric_status
    from kiosk.models import CardlessAccess

    return CustomerOverview(
        customer=customer,
        accounts=list(customer.accounts.order_by("number")),
        cards=list(customer.cards.select_related("account").order_by("-created_at", "-id")),
        biometric=customer_biometric_status(customer=customer),
        enrolment=Enrolment.objects.filter(customer=customer).order_by("-pk").first(),
        cardless=CardlessAccess.objects.filter(customer=customer).select_related("account").first(),
        pending_requests=list(
            ChangeRequest.objects.filter(customer=customer, state=ChangeRequest.State.PENDING)
            .select_related("proposed_by")
            .order_by("-proposed_at")
        ),
        sessions=customer_sessions_recent(customer=customer),
        transactions=list(
            Transaction.objects.filter(account__customer=customer)
            .select_related("account", "kiosk")
            .order_by("-created_at", "-id")[:TRANSACTIONS_SHOWN]
        ),
        snapshots=customer_snapshots_recent(customer=customer) if user.has_perm(VIEW_SNAPSHOT) else [],
    )
