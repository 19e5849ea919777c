"""Thin Celery adapters for the kiosk."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from biometrics.matcher import MatcherUnavailable
from kiosk.services import naming
from kiosk.services.sessions import kiosk_sessions_expire


@shared_task(acks_late=True, reject_on_worker_lost=True)
def kiosk_sessions_expire_task() -> int:
    """Close sessions a kiosk abandoned (power cut, closed tab); each request already enforces deadlines."""
    return kiosk_sessions_expire()


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(MatcherUnavailable, OperationalError),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=12,
)
def deferred_naming_resolve_task(deferral_id: int) -> str:
    """Name a frame the matcher could not name in time; retried until it can (see kiosk.services.naming)."""
    return naming.deferred_naming_resolve(deferral_id=deferral_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deferred_namings_sweep_task() -> int:
    """Safety net for deferrals whose task was lost or gave up (broker down, matcher down for an hour)."""
    return naming.deferred_namings_sweep()
