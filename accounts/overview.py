"""Reads for Customer 360: everything a clerk needs about one customer on one page (no writes).

The snapshots of failed checks are listed only for holders of audit.view_snapshot; decrypting their
thumbnails (and auditing that a face was shown) is the view's business, through audit's own helpers.

The face and kiosk lines belong to the apps above accounts, which accounts cannot import: biometrics and
kiosk register a reader for each of their parts (OVERVIEW_PARTS) from their AppConfig.ready.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .models import BankAccount, Card, ChangeRequest, Customer, Transaction

VIEW_SNAPSHOT = "audit.view_snapshot"
TRANSACTIONS_SHOWN = 10
SNAPSHOTS_SHOWN = 8
# The parts other apps fill in, and who does: biometric, enrolment (biometrics); cardless, sessions (kiosk).
OVERVIEW_PARTS = ("biometric", "enrolment", "cardless", "sessions")
_part_readers: dict[str, Callable[[Customer], Any]] = {}


def customer_overview_part_register(name: str, reader: Callable[[Customer], Any]) -> None:
    """Called from an upper app's AppConfig.ready: `reader(customer)` gives that part of the page."""
    if name not in OVERVIEW_PARTS or name in _part_readers:
        raise ValueError(f"{name!r} is not an overview part or is already registered")
    _part_readers[name] = reader


@dataclass
class CustomerOverview:
    customer: Customer
    accounts: list[BankAccount]
    cards: list[Card]
    biometric: Any  # biometrics.selectors.BiometricStatus
    enrolment: Any  # the newest biometrics Enrolment, or None
    cardless: Any  # kiosk CardlessAccess, or None
    pending_requests: list[ChangeRequest]
    sessions: list[Any]  # kiosk sessions, newest first, each with its .outcome
    transactions: list[Transaction]
    snapshots: list[Any] = field(default_factory=list)  # audit snapshots, only with VIEW_SNAPSHOT


def customer_snapshots_recent(*, customer: Customer, limit: int = SNAPSHOTS_SHOWN) -> list[Any]:
    """Snapshots of failed checks on the customer's cards (the audit event carries the card's owner)."""
    from audit.models import AuditSnapshot

    return list(
        AuditSnapshot.objects.filter(event__customer_id=customer.pk, purged_at__isnull=True)
        .select_related("event")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_overview(*, customer: Customer, user: Any) -> CustomerOverview:
    missing = [name for name in OVERVIEW_PARTS if name not in _part_readers]
    if missing:
        raise LookupError(f"no app registered the overview part(s) {missing}")
    parts = {name: reader(customer) for name, reader in _part_readers.items()}
    return CustomerOverview(
        customer=customer,
        accounts=list(customer.accounts.order_by("number")),
        cards=list(customer.cards.select_related("account").order_by("-created_at", "-id")),
        biometric=parts["biometric"],
        enrolment=parts["enrolment"],
        cardless=parts["cardless"],
        pending_requests=list(
            ChangeRequest.objects.filter(customer=customer, state=ChangeRequest.State.PENDING)
            .select_related("proposed_by")
            .order_by("-proposed_at")
        ),
        sessions=parts["sessions"],
        transactions=list(
            Transaction.objects.filter(account__customer=customer)
            .select_related("account", "kiosk")
            .order_by("-created_at", "-id")[:TRANSACTIONS_SHOWN]
        ),
        snapshots=customer_snapshots_recent(customer=customer) if user.has_perm(VIEW_SNAPSHOT) else [],
    )
