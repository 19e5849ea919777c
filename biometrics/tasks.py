"""Thin Celery adapters: ids in, one service call, idempotent, acks_late (a killed worker's task is
redelivered and the service skips what is already done)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from biometrics.services import enrollment, gallery_sync, templates

_COMMON = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(
    **_COMMON,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def enrolment_encode_task(enrolment_id: int) -> str:
    return enrollment.enrolment_encode(enrolment_id=enrolment_id).status


@shared_task(**_COMMON)
def gallery_add_customer_task(customer_id: int) -> int:
    """Bring this worker's gallery up to date after a customer's templates were activated (a delta load of
    that customer's rows). Other processes catch up on their own next use through the gallery version, so
    this is a warm-up, never needed for correctness. Returns the gallery size."""
    return len(gallery_sync.gallery_current())


@shared_task(**_COMMON)
def gallery_rebuild_task() -> int:
    """Ask every process to reload its gallery in full on next use, and reload this worker's now."""
    gallery_sync.gallery_rebuild_request()
    return len(gallery_sync.gallery_rebuild())


@shared_task(**_COMMON, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def templates_reencode_task(engine_version: str) -> dict[str, int]:
    result = templates.templates_reencode(engine_version=engine_version)
    return {
        "customers": result.customers,
        "templates_created": result.templates_created,
        "photos_failed": result.photos_failed,
    }
