"""`manage.py purge_snapshots`: apply snapshot retention now (the Celery beat task does the same daily)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from audit.services import snapshots_purge


class Command(BaseCommand):
    help = (
        "Delete failed-attempt snapshot files older than AUDIT_SNAPSHOT_RETENTION_DAYS (events are kept) "
        "and orphan snapshot files left by rolled-back transactions."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = snapshots_purge()
        self.stdout.write(
            f"Purged {result.purged} snapshot(s) older than {settings.AUDIT_SNAPSHOT_RETENTION_DAYS} days; "
            f"deleted {result.orphans_deleted} orphan file(s)."
        )
