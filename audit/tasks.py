"""Celery tasks of the audit app: thin adapters over audit.services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .services import snapshots_purge


@shared_task(name="audit.snapshots_purge")
def snapshots_purge_task() -> dict[str, int]:
    result = snapshots_purge(now=timezone.now())
    return {"purged": result.purged, "orphans_deleted": result.orphans_deleted}
