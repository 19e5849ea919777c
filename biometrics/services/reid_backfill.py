"""Existing customers move over: second-model templates from their retained encrypted enrolment photos.

``templates_reid_backfill`` embeds the photo of every active template that has no current second-model
embedding, then shifts each new embedding against a cohort of *other* customers' embeddings (the new ones
included, so a first run over a whole bank has a cohort), and stores it encrypted on the template row, one
customer per transaction with its audit row and a gallery version bump (every process refreshes its cached
templates). Safe to re-run: rows already at ``REID_VERSION`` are skipped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_event_record
from biometrics.models import REID_ENCODING_SIZE, FaceTemplate
from biometrics.services.gallery_state import gallery_state_lock, gallery_version_bump
from biometrics.services.second_model import REID_VERSION, cohort_read, image_embed, template_reid_fill
from biometrics.services.templates import photo_image


@dataclass(frozen=True)
class ReidBackfillResult:
    customers: int
    templates: int
    photos_failed: int


def _pending() -> list[FaceTemplate]:
    return list(
        FaceTemplate.objects.filter(
            revoked_at__isnull=True, gallery_added_version__isnull=False, photo__isnull=False
        )
        .exclude(reid_version=REID_VERSION)
        .select_related("photo")
        .order_by("customer_id", "id")
    )


def _embed(templates: list[FaceTemplate]) -> tuple[dict[int, list[tuple[int, np.ndarray]]], int]:
    by_customer: dict[int, list[tuple[int, np.ndarray]]] = defaultdict(list)
    failed = 0
    for template in templates:
        assert template.photo is not None
        try:
            embedding = image_embed(photo_image(photo=template.photo))
        except ValueError:
            embedding = None
        if embedding is None:
            failed += 1
            continue
        by_customer[template.customer_id].append((template.pk, embedding))
    return by_customer, failed


def templates_reid_backfill() -> ReidBackfillResult:
    """Give every active template of every customer a second-model embedding (see the module docstring)."""
    by_customer, failed = _embed(_pending())
    customers = written = 0
    for customer_id, rows in by_customer.items():
        others = [
            vector for other, items in by_customer.items() if other != customer_id for _, vector in items
        ]
        stored = cohort_read(exclude_customer_id=customer_id)
        cohort = np.vstack([stored, *others]) if others else stored
        with transaction.atomic():
            state = gallery_state_lock()
            locked = {
                row.pk: row
                for row in FaceTemplate.objects.select_for_update().filter(
                    pk__in=[pk for pk, _ in rows], revoked_at__isnull=True
                )
            }
            for pk, embedding in rows:
                if (template := locked.get(pk)) is None:
                    continue  # revoked meanwhile
                template_reid_fill(template, embedding, cohort.reshape(-1, REID_ENCODING_SIZE))
                template.save(update_fields=["reid_encoding", "reid_version", "reid_shift"])
                written += 1
            version = gallery_version_bump(state=state)
            audit_event_record(
                kind=AuditEvent.Kind.TEMPLATES_REENCODED,
                outcome=AuditEvent.Outcome.SUCCESS,
                customer_id=customer_id,
                data={"engine": REID_VERSION, "templates": len(locked), "gallery_version": version},
            )
            customers += 1
    if customers:
        # The matcher shards hold these templates already (same gallery versions): a new epoch makes every
        # process reload them in full, with their second-model rows, on its next use.
        from biometrics.services.gallery_sync import gallery_rebuild_request

        gallery_rebuild_request()
    return ReidBackfillResult(customers=customers, templates=written, photos_failed=failed)
