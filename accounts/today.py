"""Today (issue 23 item 4): what a branch needs on opening the back office. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from accounts.approvals.services import APPROVE_PERMISSION
from accounts.models import ChangeRequest

# Below this many notes of a denomination a cassette is shown in the warning colour.
CASSETTE_LOW_NOTES = 20
BIN_WARN_NOTES = 1500


@dataclass
class KioskHealth:
    kiosk: Any
    cassettes: list[tuple[int, int, bool]] = field(default_factory=list)  # (denomination, count, low)
    bin_notes: int = 0
    bin_warn: bool = False
    last_contact: Any = None
    last_error: str = ""


@dataclass
class Today:
    approvals: list[ChangeRequest]
    outcomes: list[tuple[str, str, int, int]]  # (key, label, count, percent of the largest)
    snapshots_new: int
    kiosks: list[KioskHealth]


def _outcomes(start: Any) -> list[tuple[str, str, int, int]]:
    from django.utils.translation import gettext as _

    from kiosk.models import KioskSession

    counts = KioskSession.objects.filter(created_at__gte=start).aggregate(
        face=Count("pk", filter=Q(verified_by="face")),
        code=Count("pk", filter=Q(verified_by="otp")),
        refused=Count("pk", filter=Q(verified_at__isnull=True) & ~Q(face_failure_reason="")),
    )
    rows = [
        ("face", _("Verified by face"), counts["face"]),
        ("code", _("One-time code used"), counts["code"]),
        ("refused", _("Refused"), counts["refused"]),
    ]
    top = max([count for _key, _label, count in rows] + [1])
    return [(key, label, count, round(100 * count / top)) for key, label, count in rows]


def _kiosks() -> list[KioskHealth]:
    from audit.models import AuditEvent
    from kiosk.models import Kiosk

    health = []
    for kiosk in Kiosk.objects.prefetch_related("cassettes", "cash_in_bin", "credentials").order_by("name"):
        row = KioskHealth(kiosk=kiosk)
        row.cassettes = [
            (c.denomination, c.count, c.count < CASSETTE_LOW_NOTES)
            for c in sorted(kiosk.cassettes.all(), key=lambda c: c.denomination)
        ]
        row.bin_notes = sum(b.count for b in kiosk.cash_in_bin.all())
        row.bin_warn = row.bin_notes >= BIN_WARN_NOTES
        used = [c.last_used_at for c in kiosk.credentials.all() if c.last_used_at]
        row.last_contact = max(used) if used else None
        failure = (
            AuditEvent.objects.filter(kiosk_id=kiosk.pk, outcome=AuditEvent.Outcome.FAILURE)
            .order_by("-seq")
            .first()
        )
        row.last_error = (
            f"{failure.get_kind_display()} ({failure.created_at:%Y-%m-%d %H:%M})" if failure else ""
        )
        health.append(row)
    return health


def today_for(user: Any) -> Today:
    from audit.models import AuditSnapshot

    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    approvals: list[ChangeRequest] = []
    if user.has_perm(APPROVE_PERMISSION):
        approvals = list(
            ChangeRequest.objects.filter(state=ChangeRequest.State.PENDING)
            .exclude(proposed_by=user)
            .select_related("customer")[:10]
        )
    snapshots_new = (
        AuditSnapshot.objects.filter(status=AuditSnapshot.Status.NEW, purged_at__isnull=True).count()
        if user.has_perm("audit.view_snapshot")
        else 0
    )
    kiosks = _kiosks() if user.has_perm("kiosk.view_kiosk") else []
    return Today(approvals=approvals, outcomes=_outcomes(start), snapshots_new=snapshots_new, kiosks=kiosks)
