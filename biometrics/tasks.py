"""Thin Celery adapters: ids in, one service call, idempotent, acks_late (a killed worker's task is
redelivered and the service skips what is already done)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from biometrics.matcher import MATCH_TASK, MatcherUnavailable
from biometrics.services import enrolment_encoding, templates

_COMMON = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(
    **_COMMON,
    # MatcherUnavailable: the duplicate check needs every shard; the enrolment waits (encoding) until it can.
    autoretry_for=(OperationalError, MatcherUnavailable),
    retry_backoff=True,
    max_retries=8,
)
def enrolment_encode_task(enrolment_id: int) -> str:
    return enrolment_encoding.enrolment_encode(enrolment_id=enrolment_id).status


@shared_task(**_COMMON)
def gallery_rebuild_task() -> int:
    """Ask every process to reload its gallery in full on next use, and reload this worker's now."""
    from biometrics.services import gallery_sync

    gallery_sync.gallery_rebuild_request()
    return len(gallery_sync.gallery_rebuild())


@shared_task(**_COMMON, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def templates_reencode_task(engine_version: str) -> dict[str, int]:
    from biometrics.services.reid_backfill import templates_reid_backfill
    from biometrics.services.second_model import second_model_active

    result = templates.templates_reencode(engine_version=engine_version)
    # Then the second model's templates of the same retained photos (existing customers move over).
    second = templates_reid_backfill() if second_model_active() else None
    return {
        "customers": result.customers,
        "templates_created": result.templates_created,
        "photos_failed": result.photos_failed,
        "second_model_customers": second.customers if second else 0,
        "second_model_templates": second.templates if second else 0,
        "second_model_photos_failed": second.photos_failed if second else 0,
    }


# Not acks_late: a query lost with a killed matcher is not worth redelivering, its asker has moved on.
@shared_task(name=MATCH_TASK, acks_late=False, ignore_result=True)
def match_shard_query_task(
    shard: int,
    shards: int,
    payload: str,
    exclude_customer_id: int | None,
    min_version: int,
    reply_key: str,
    expires_at: float,
    reid_payload: str = "",
) -> bool:
    """One shard's part of a 1:N query (biometrics.matcher), on the matcher worker of queue match.<k>."""
    from biometrics.services import matcher_shard

    return matcher_shard.shard_query_reply(
        shard=shard,
        shards=shards,
        payload=payload,
        exclude_customer_id=exclude_customer_id,
        min_version=min_version,
        reply_key=reply_key,
        expires_at=expires_at,
        reid_payload=reid_payload,
    )
