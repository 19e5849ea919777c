"""Thin Celery adapters for the customer portal."""

from __future__ import annotations

from celery import shared_task

from .notifications import notice_send


@shared_task(acks_late=True, reject_on_worker_lost=True)
def portal_notice_task(kind: str, customer_id: int, params: dict[str, str]) -> bool:
    """One WhatsApp notice (a withdrawal, a failed face check), if the customer asked for it."""
    return notice_send(kind=kind, customer_id=customer_id, params=params)
