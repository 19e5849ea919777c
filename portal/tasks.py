"""Thin Celery adapters for the customer portal."""

from __future__ import annotations

from celery import shared_task

from .notifications import notice_send
from .services.signin import portal_code_issue


@shared_task(acks_late=True, reject_on_worker_lost=True)
def portal_notice_task(kind: str, customer_id: int, params: dict[str, str]) -> bool:
    """One WhatsApp notice (a withdrawal, a failed face check), if the customer asked for it."""
    return notice_send(kind=kind, customer_id=customer_id, params=params)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def portal_code_send_task(code_id: int) -> None:
    """Draw and send one queued WhatsApp code (the code exists only in this task and the message)."""
    portal_code_issue(code_id=code_id)
