"""Thin Celery adapters for the kiosk."""

from __future__ import annotations

from celery import shared_task

from kiosk.services.sessions import kiosk_sessions_expire


@shared_task(acks_late=True, reject_on_worker_lost=True)
def kiosk_sessions_expire_task() -> int:
    """Close sessions a kiosk abandoned (power cut, closed tab); each request already enforces deadlines."""
    return kiosk_sessions_expire()
