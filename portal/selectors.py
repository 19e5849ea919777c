"""Reads for the customer portal. Every query starts from the signed-in customer's id: another customer's
rows are never fetched, so a foreign id in a URL is a 404."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import BankAccount, Card, ChangeRequest, Transaction
from biometrics.models import Enrolment, FaceTemplate
from kiosk.models import CardlessAccess, KioskSession
from kiosk.vocabulary import FailureReason, VerifiedBy

from .consent import CONSENT_TEXT
from .models import CustomerLogin, FraudCase

SESSION_KEY = "portal"


def login_from_session(session: Any) -> CustomerLogin | None:
    """The signed-in customer's login, or None (no sign-in, idle or too old, signed out everywhere).

    Refreshes the idle clock of a live session.
    """
    state = session.get(SESSION_KEY) or {}
    login_id, epoch = state.get("login"), state.get("epoch")
    if not isinstance(login_id, int) or not isinstance(epoch, int):
        return None
    now = timezone.now().timestamp()
    if now - float(state.get("seen", 0)) > settings.PORTAL_IDLE_TIMEOUT_S:
        return None
    if now - float(state.get("since", 0)) > settings.PORTAL_SESSION_MAX_S:
        return None
    login = (
        CustomerLogin.objects.select_related("customer")
        .filter(pk=login_id, customer__is_active=True, activated_at__isnull=False)
        .first()
    )
    if login is None or login.session_epoch != epoch:
        return None
    session[SESSION_KEY] = {**state, "seen": now}
    return login


def customer_accounts(*, customer_id: int) -> QuerySet[BankAccount]:
    return BankAccount.objects.filter(customer_id=customer_id).order_by("number")


def customer_account_get(*, customer_id: int, account_id: int) -> BankAccount:
    account = customer_accounts(customer_id=customer_id).filter(pk=account_id).first()
    if account is None:
        raise Http404
    return account


def customer_cards(*, customer_id: int) -> QuerySet[Card]:
    return Card.objects.filter(customer_id=customer_id).select_related("account").order_by("last4")


def customer_card_get(*, customer_id: int, card_id: int) -> Card:
    card = customer_cards(customer_id=customer_id).filter(pk=card_id).first()
    if card is None:
        raise Http404
    return card


@dataclass(frozen=True)
class TransactionSearch:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None


def account_transactions(
    *, account: BankAccount, search: TransactionSearch, limit: int = 200
) -> list[Transaction]:
    rows = Transaction.objects.filter(account=account).select_related("kiosk", "card")
    if search.date_from:
        rows = rows.filter(created_at__date__gte=search.date_from)
    if search.date_to:
        rows = rows.filter(created_at__date__lte=search.date_to)
    if search.amount_min is not None:
        rows = rows.filter(amount__gte=search.amount_min)
    if search.amount_max is not None:
        rows = rows.filter(amount__lte=search.amount_max)
    return list(rows.order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class FaceSummary:
    active_templates: int
    engine_versions: list[str]
    enrolments: list[Enrolment]
    consent_at: dt.datetime | None
    consent_version: str
    consent_text: Promise


def face_summary(*, customer_id: int) -> FaceSummary:
    from accounts.models import Customer

    customer = Customer.objects.get(pk=customer_id)
    active = FaceTemplate.objects.filter(customer_id=customer_id, revoked_at__isnull=True).exclude(
        encoding=""
    )
    enrolments = Enrolment.objects.filter(customer_id=customer_id, status=Enrolment.Status.ACTIVE)
    return FaceSummary(
        active_templates=active.count(),
        engine_versions=sorted(set(active.values_list("engine_version", flat=True))),
        enrolments=list(enrolments.order_by("-completed_at")),
        consent_at=customer.biometric_consent_at,
        consent_version=settings.BIOMETRIC_CONSENT_VERSION,
        consent_text=CONSENT_TEXT,
    )


OUTCOME_LABELS: dict[str, Promise] = {
    "verified": _("Verified by face"),
    "code_used": _("One-time code used"),
    "liveness_failed": _("Liveness check failed"),
    "refused": _("Refused: face not matched"),
    "not_checked": _("Ended before a face check"),
    "in_progress": _("In progress"),
}
# Uses a customer may dispute: anything but a plain face verification.
DISPUTABLE = frozenset({"code_used", "liveness_failed", "refused"})


def session_outcome(session: KioskSession) -> str:
    if session.verified_by == VerifiedBy.FACE:
        return "verified"
    if session.verified_by == VerifiedBy.OTP:
        return "code_used"
    if session.face_failure_reason == FailureReason.LIVENESS:
        return "liveness_failed"
    if session.face_failure_reason:
        return "refused"
    return "not_checked" if session.ended_at else "in_progress"


@dataclass(frozen=True)
class FaceUse:
    session: KioskSession
    outcome: str
    label: Promise
    disputable: bool
    fraud_case: FraudCase | None


def customer_sessions(*, customer_id: int) -> QuerySet[KioskSession]:
    return KioskSession.objects.filter(Q(card__customer_id=customer_id) | Q(customer_id=customer_id))


def face_timeline(*, customer_id: int, limit: int = 100) -> list[FaceUse]:
    sessions = list(
        customer_sessions(customer_id=customer_id)
        .select_related("kiosk", "card")
        .order_by("-created_at")[:limit]
    )
    cases = {case.session_id: case for case in FraudCase.objects.filter(session__in=sessions)}
    uses = []
    for session in sessions:
        outcome = session_outcome(session)
        uses.append(
            FaceUse(
                session=session,
                outcome=outcome,
                label=OUTCOME_LABELS[outcome],
                disputable=outcome in DISPUTABLE,
                fraud_case=cases.get(session.pk),
            )
        )
    return uses


def customer_session_get(*, customer_id: int, public_id: str) -> KioskSession:
    session = (
        customer_sessions(customer_id=customer_id)
        .select_related("card", "kiosk")
        .filter(public_id=public_id)
        .first()
    )
    if session is None:
        raise Http404
    return session


def face_requests(*, customer_id: int) -> list[ChangeRequest]:
    kinds = [ChangeRequest.Kind.BIOMETRICS_REVOKE, ChangeRequest.Kind.BIOMETRICS_ERASE]
    return list(
        ChangeRequest.objects.filter(customer_id=customer_id, kind__in=kinds).order_by("-proposed_at")[:20]
    )


def cardless_access(*, customer_id: int) -> CardlessAccess | None:
    return CardlessAccess.objects.filter(customer_id=customer_id).first()


def fraud_cases(*, customer_id: int) -> list[FraudCase]:
    return list(FraudCase.objects.filter(customer_id=customer_id).select_related("card", "session__kiosk"))
