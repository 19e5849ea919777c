"""`manage.py pin_pepper_rotate`: where the card-less PIN verifiers stand against PIN_PEPPER.

Procedure: put a new pepper in front of PIN_PEPPER (newest first) and restart. Each verifier moves to it at
the customer's next right PIN. Run this command to see how many are still under an older pepper or none; a
keyed hash cannot be re-keyed without the PIN, so once you decide to drop the old pepper run it with
--retire: those customers' card-less cash is disabled until a four-eyes reset at a branch (new PIN), audited.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_record
from kiosk.locks import cardless_access_many_lock
from kiosk.models import CardlessAccess
from kiosk.pin_verifiers import _peppers, pepper_id, pepper_of


class Command(BaseCommand):
    help = "Report card-less PIN verifiers not under the newest PIN_PEPPER; --retire sends them to a reset."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--retire",
            action="store_true",
            help="Disable card-less cash (reset at a branch) for verifiers not under the newest pepper.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        newest = pepper_id(_peppers()[0])
        listed = {pepper_id(pepper) for pepper in _peppers()}
        counts: Counter[str] = Counter()
        stale_ids: list[int] = []
        for pk, stored in CardlessAccess.objects.exclude(pin_hash="").values_list("pk", "pin_hash"):
            key = pepper_of(stored)
            label = (
                "newest"
                if key == newest
                else "older"
                if key in listed
                else "unkeyed"
                if not key
                else "dropped"
            )
            counts[label] += 1
            if label != "newest":
                stale_ids.append(pk)
        for label in ("newest", "older", "unkeyed", "dropped"):
            self.stdout.write(f"{label}: {counts[label]}")
        if options["retire"] and stale_ids:
            self._retire(stale_ids)
            self.stdout.write(f"retired: {len(stale_ids)} (card-less cash disabled until a branch reset)")

    @transaction.atomic
    def _retire(self, ids: list[int]) -> None:
        now = timezone.now()
        for access in cardless_access_many_lock(ids):
            access.pin_hash, access.pin_reset_required = "", True
            if access.status in (CardlessAccess.Status.ACTIVE, CardlessAccess.Status.PIN_PENDING):
                access.status, access.disabled_at = CardlessAccess.Status.DISABLED, now
            access.save(
                update_fields=["pin_hash", "pin_reset_required", "status", "disabled_at", "updated_at"]
            )
        audit_event_record(
            kind=AuditEvent.Kind.PIN_PEPPER_ROTATED,
            outcome=AuditEvent.Outcome.SUCCESS,
            data={"retired": len(ids), "newest_pepper": pepper_id(_peppers()[0])},
        )
