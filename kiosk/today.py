"""Reads for the admin index's "Today" panel: the day's sessions by outcome and each kiosk's health.

No writes. A kiosk is offline when its last heartbeat is older than KIOSK_OFFLINE_AFTER_S (or it never sent
one); a cassette is low below KIOSK_CASSETTE_LOW_NOTES notes; a bin needs emptying from
KIOSK_BIN_WARN_PERCENT of KIOSK_BIN_CAPACITY_NOTES.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Kiosk, KioskSession
from .vocabulary import VerifiedBy

VERIFIED, CODE_USED, REFUSED, OTHER = "verified", "code_used", "refused", "other"
OUTCOME_LABELS: dict[str, Any] = {
    VERIFIED: _("Verified by face"),
    CODE_USED: _("One-time code used"),
    REFUSED: _("Refused"),
    OTHER: _("Abandoned or in progress"),
}


def session_outcome(session: KioskSession) -> str:
    """What became of a session, for people: verified by face, by a code, refused (a failed face check or
    PIN), or neither (walked away, still open)."""
    if session.verified_by == VerifiedBy.OTP:
        return CODE_USED
    if session.verified_by == VerifiedBy.FACE or session.verified_at is not None:
        return VERIFIED
    if session.face_failure_reason or session.state == KioskSession.State.FACE_FAILED:
        return REFUSED
    return OTHER


def day_start(now: dt.datetime | None = None) -> dt.datetime:
    """Midnight in the bank's time zone (TIME_ZONE)."""
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class OutcomeBar:
    key: str
    label: Any
    count: int
    percent: int  # of the day's sessions, for the chart's bar width


def sessions_today_by_outcome(*, now: dt.datetime | None = None) -> list[OutcomeBar]:
    since = day_start(now)
    refused = Q(face_failure_reason__gt="") | Q(state=KioskSession.State.FACE_FAILED)
    unverified = Q(verified_at__isnull=True) & ~Q(verified_by__in=[VerifiedBy.FACE, VerifiedBy.OTP])
    today = KioskSession.objects.filter(created_at__gte=since)
    counts = {
        CODE_USED: today.filter(verified_by=VerifiedBy.OTP).count(),
        VERIFIED: today.exclude(verified_by=VerifiedBy.OTP).exclude(unverified).count(),
        REFUSED: today.filter(unverified & refused).count(),
        OTHER: today.filter(unverified).exclude(refused).count(),
    }
    total = sum(counts.values())
    return [
        OutcomeBar(key, OUTCOME_LABELS[key], counts[key], round(100 * counts[key] / total) if total else 0)
        for key in (VERIFIED, CODE_USED, REFUSED, OTHER)
    ]


@dataclass(frozen=True)
class CassetteLevel:
    denomination: int
    count: int
    low: bool


@dataclass(frozen=True)
class KioskHealth:
    kiosk: Kiosk
    online: bool
    last_contact_at: dt.datetime | None
    last_error: str
    last_error_at: dt.datetime | None
    cassettes: list[CassetteLevel]
    bin_percent: int
    bin_full: bool

    @property
    def needs_action(self) -> bool:
        in_service = self.kiosk.status == Kiosk.Status.ACTIVE
        low_cash = any(c.low for c in self.cassettes)
        return not self.online or not in_service or bool(self.last_error) or self.bin_full or low_cash


def kiosk_health(*, kiosk: Kiosk, now: dt.datetime) -> KioskHealth:
    offline_after = dt.timedelta(seconds=settings.KIOSK_OFFLINE_AFTER_S)
    low = settings.KIOSK_CASSETTE_LOW_NOTES
    capacity = max(1, settings.KIOSK_BIN_CAPACITY_NOTES)
    # Read from the prefetched rows: one query per table for the whole panel.
    bin_notes = sum(row.count for row in kiosk.cash_in_bin.all())
    # Bin fill in steps of 10 % and never a note count: the bin is counted blind (kiosk.cash_admin), so the
    # page a counter opens must not give away the figure they are about to count.
    bin_percent = min(100, 10 * (100 * bin_notes // capacity // 10))
    return KioskHealth(
        kiosk=kiosk,
        online=kiosk.last_contact_at is not None and now - kiosk.last_contact_at <= offline_after,
        last_contact_at=kiosk.last_contact_at,
        last_error=kiosk.last_error,
        last_error_at=kiosk.last_error_at,
        cassettes=[CassetteLevel(c.denomination, c.count, c.count < low) for c in kiosk.cassettes.all()],
        bin_percent=bin_percent,
        bin_full=bin_percent >= settings.KIOSK_BIN_WARN_PERCENT,
    )


def kiosks_health(*, now: dt.datetime | None = None) -> list[KioskHealth]:
    """Every kiosk that is not disabled, with what needs doing."""
    now = now or timezone.now()
    kiosks = (
        Kiosk.objects.exclude(status=Kiosk.Status.DISABLED)
        .prefetch_related("cassettes", "cash_in_bin")
        .order_by("name")
    )
    return [kiosk_health(kiosk=kiosk, now=now) for kiosk in kiosks]


APPROVE = "accounts.approve_changerequest"
VIEW_SNAPSHOT = "audit.view_snapshot"
APPROVALS_SHOWN = 8


def approvals_waiting_for(*, user: Any) -> tuple[list[Any], int]:
    """Pending requests this user may decide (never their own proposals), newest first, and their count."""
    from accounts.approvals.selectors import change_requests_pending

    if not user.has_perm(APPROVE):
        return [], 0
    waiting = change_requests_pending().exclude(proposed_by=user.pk).order_by("-proposed_at", "-id")
    return list(waiting[:APPROVALS_SHOWN]), waiting.count()


def snapshots_waiting_review(*, user: Any) -> int | None:
    """Failed face checks with a snapshot nobody has reviewed yet; None for staff who may not review them."""
    from audit.models import AuditSnapshot

    if not user.has_perm(VIEW_SNAPSHOT):
        return None
    return AuditSnapshot.objects.filter(status=AuditSnapshot.Status.NEW, purged_at__isnull=True).count()


def today_panel(*, user: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    approvals, approvals_count = approvals_waiting_for(user=user)
    outcomes = sessions_today_by_outcome(now=now)
    return {
        "approvals": approvals,
        "approvals_count": approvals_count,
        "can_approve": user.has_perm(APPROVE),
        "outcomes": outcomes,
        "sessions_total": sum(bar.count for bar in outcomes),
        "snapshots_new": snapshots_waiting_review(user=user),
        "kiosks": kiosks_health(now=now),
        "can_view_kiosks": user.has_perm("kiosk.view_kiosk"),
        "can_view_sessions": user.has_perm("kiosk.view_kiosksession"),
        "offline_after_s": settings.KIOSK_OFFLINE_AFTER_S,
        "day_start": day_start(now),
    }
