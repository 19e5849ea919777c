"""Writes to the audit trail: append events (with an optional encrypted snapshot), review, purge, erase.

Checkpoints of the chain head are not written here: the witness signs them (audit.witness), not the portal."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from atmsite.crypto import encrypted_file_delete, encrypted_file_read, encrypted_file_save

from .actors import Actor, actor_user
from .chain import canonical, chain_key_current, event_hash, personal_digest
from .errors import AuditError
from .models import AuditChainHead, AuditEvent, AuditSnapshot

logger = logging.getLogger(__name__)

SNAPSHOT_FOLDER = "snapshots"
# A snapshot file with no row is the leftover of a rolled-back transaction (see audit_event_record). Only
# files older than this are removed, so a file whose transaction has not committed yet is never touched.
ORPHAN_MIN_AGE = dt.timedelta(days=1)


def audit_event_record(
    *,
    kind: str,
    outcome: str = AuditEvent.Outcome.INFO,
    actor: Actor = None,
    kiosk_id: int | None = None,
    customer_id: int | None = None,
    card_last4: str = "",
    data: dict[str, Any] | None = None,
    personal: dict[str, Any] | None = None,
    snapshot: bytes | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction (it rolls back with the change).

    Call it after taking every other row lock the transaction needs: it locks the chain head, which every
    audited transaction shares, so taking it last keeps the hold short and the lock order deadlock-free.

    `snapshot` (JPEG bytes of a failing camera frame) is stored encrypted in an AuditSnapshot row of the
    event. The file is written before the head is locked, to keep the shared lock short. Django has no
    on_rollback hook: if the transaction rolls back, the file stays behind as an orphan — harmless
    ciphertext with no row pointing at it — and `purge_snapshots` deletes orphans older than a day.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_event_record must run inside the transaction of the change it records")
    key = chain_key_current()
    snapshot_name = encrypted_file_save(folder=SNAPSHOT_FOLDER, data=snapshot) if snapshot else ""
    # Lock the head row: appends are serialised so seq has no gaps and each row links to its predecessor.
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
    # Round-trip through canonical JSON so the hash covers exactly what the JSON columns will give back.
    personal = json.loads(canonical(personal or {}))
    values: dict[str, Any] = {
        "seq": head.seq + 1,
        "created_at": timezone.now(),
        "kind": str(kind),
        "outcome": str(outcome),
        "actor_id": getattr(actor, "pk", None),
        "actor_username": getattr(actor, "username", "") or "",
        "kiosk_id": kiosk_id,
        "customer_id": customer_id,
        "card_last4": card_last4 or "",
        "data": json.loads(canonical(data or {})),
        "personal_digest": personal_digest(personal=personal, salt=secrets.token_hex(8)),
        "chain_key_id": key.id,
    }
    digest = event_hash(values=values, prev_hash=head.hash, secret=key.secret)
    event = AuditEvent.objects.create(**values, personal=personal, prev_hash=head.hash, hash=digest)
    head.seq, head.hash = event.seq, digest
    head.save(update_fields=["seq", "hash"])
    if snapshot_name:
        AuditSnapshot.objects.create(event=event, storage_name=snapshot_name, created_at=event.created_at)
    return event


def _event_context(event: AuditEvent) -> dict[str, Any]:
    # Views and marks are filed under the same customer/card/kiosk as the attempt, so filters find them.
    return {"customer_id": event.customer_id, "kiosk_id": event.kiosk_id, "card_last4": event.card_last4}


@transaction.atomic
def snapshot_view(*, snapshot: AuditSnapshot, actor: Actor) -> bytes:
    """Decrypt a snapshot for a person and record that they saw it (SNAPSHOT_VIEWED, same transaction)."""
    if snapshot.purged_at is not None:
        raise AuditError.PURGED.invalid()
    image = encrypted_file_read(snapshot.storage_name)
    audit_event_record(
        kind=AuditEvent.Kind.SNAPSHOT_VIEWED,
        actor=actor,
        data={"snapshot_ids": [snapshot.pk], "event_seq": snapshot.event.seq, "view": "full"},
        **_event_context(snapshot.event),
    )
    return image


@transaction.atomic
def snapshots_thumbnails_viewed(*, snapshots: list[AuditSnapshot], actor: Actor) -> None:
    """Record one SNAPSHOT_VIEWED event for a page of the review grid (thumbnails are faces too)."""
    if not snapshots:
        return
    audit_event_record(
        kind=AuditEvent.Kind.SNAPSHOT_VIEWED,
        actor=actor,
        data={"snapshot_ids": [snapshot.pk for snapshot in snapshots], "view": "thumbnails"},
    )


@transaction.atomic
def snapshot_mark(*, snapshot: AuditSnapshot, status: str, actor: Actor, note: str = "") -> AuditSnapshot:
    """Mark a snapshot reviewed or fraud-suspected, with the reviewer's note; the mark is an audit event.

    The note is required: a mark says what the reviewer checked, and a later reader (or a second reviewer who
    re-marks it) needs that. Each mark's note stays in its SNAPSHOT_MARKED event, so re-marking keeps the
    earlier ones (selectors.snapshot_marks); the row holds only the latest.
    """
    if status not in (AuditSnapshot.Status.REVIEWED, AuditSnapshot.Status.FRAUD_SUSPECTED):
        raise AuditError.STATUS.invalid()
    note = (note or "").strip()
    if not note:
        raise AuditError.NOTE_REQUIRED.invalid()
    if len(note) > 300:
        raise AuditError.NOTE_TOO_LONG.invalid()
    # Lock so two auditors marking at once leave one consistent row, each mark recorded in order.
    snapshot = AuditSnapshot.objects.select_for_update().select_related("event").get(pk=snapshot.pk)
    previous = snapshot.status
    snapshot.status, snapshot.reviewed_by, snapshot.reviewed_at = status, actor_user(actor), timezone.now()
    snapshot.review_note = note
    snapshot.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_event_record(
        kind=AuditEvent.Kind.SNAPSHOT_MARKED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        data={
            "snapshot_id": snapshot.pk,
            "event_seq": snapshot.event.seq,
            "status": status,
            "previous": previous,
            "note": note,
        },
        **_event_context(snapshot.event),
    )
    return snapshot


def _files_delete_after_commit(names: list[str]) -> None:
    # Files go only once the rows saying they are gone are committed: a rollback leaves both intact.
    def delete() -> None:
        for name in names:
            try:
                encrypted_file_delete(name)
            except OSError:
                logger.exception("Could not delete snapshot file %s", name)

    if names:
        transaction.on_commit(delete)


@dataclass(frozen=True)
class PurgeResult:
    purged: int
    orphans_deleted: int


def _orphan_files_delete(*, now: dt.datetime) -> int:
    try:
        _, files = default_storage.listdir(SNAPSHOT_FOLDER)
    except FileNotFoundError:
        return 0
    names = {f"{SNAPSHOT_FOLDER}/{file}" for file in files}
    known = set(AuditSnapshot.objects.filter(storage_name__in=names).values_list("storage_name", flat=True))
    deleted = 0
    for name in sorted(names - known):
        if default_storage.get_modified_time(name) < now - ORPHAN_MIN_AGE:
            default_storage.delete(name)
            deleted += 1
    return deleted


def snapshots_purge(*, now: dt.datetime | None = None) -> PurgeResult:
    """Delete snapshot files past settings.AUDIT_SNAPSHOT_RETENTION_DAYS and orphan files from rollbacks.

    The events and snapshot rows stay (purged_at set); one SNAPSHOT_PURGED event records the count, so the
    trail shows that retention ran even when there was nothing to purge.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.AUDIT_SNAPSHOT_RETENTION_DAYS)
    orphans_deleted = _orphan_files_delete(now=now)
    with transaction.atomic():
        # Lock the expired rows so a concurrent mark or erasure does not interleave with the purge.
        expired = list(
            AuditSnapshot.objects.select_for_update()
            .filter(purged_at__isnull=True, created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", "storage_name")
        )
        AuditSnapshot.objects.filter(pk__in=[pk for pk, _ in expired]).update(purged_at=now)
        audit_event_record(
            kind=AuditEvent.Kind.SNAPSHOT_PURGED,
            outcome=AuditEvent.Outcome.SUCCESS,
            data={
                "count": len(expired),
                "orphans_deleted": orphans_deleted,
                "retention_days": settings.AUDIT_SNAPSHOT_RETENTION_DAYS,
                "cutoff": cutoff.isoformat(),
            },
        )
        _files_delete_after_commit([name for _, name in expired])
    return PurgeResult(purged=len(expired), orphans_deleted=orphans_deleted)


@transaction.atomic
def audit_customer_erase(*, customer_id: int, actor: Actor, data: dict[str, Any] | None = None) -> None:
    """Erase a customer's personal data from the trail: snapshots (files and rows) and `personal` fields.

    The chain stays valid: it covers only the salted digest of `personal`, and snapshots are not chained.
    The events themselves (what happened, when, on which card) stay, as the bank must keep them.
    `data` lets the caller add its own facts (templates, photos erased) to the one BIOMETRICS_ERASED event.
    """
    snapshots = list(
        AuditSnapshot.objects.select_for_update()
        .filter(event__customer_id=customer_id)
        .order_by("pk")
        .values_list("pk", "storage_name", "purged_at")
    )
    AuditSnapshot.objects.filter(pk__in=[pk for pk, _, _ in snapshots]).delete()
    blanked = AuditEvent.objects.filter(customer_id=customer_id, personal_erased=False)._personal_erase()
    audit_event_record(
        kind=AuditEvent.Kind.BIOMETRICS_ERASED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer_id,
        data={**(data or {}), "snapshots_deleted": len(snapshots), "events_blanked": blanked},
    )
    _files_delete_after_commit([name for _, name, purged_at in snapshots if purged_at is None])


@transaction.atomic
def audit_trail_exported(*, actor: Actor, scope: str, filters: dict[str, str]) -> AuditEvent:
    """Record that someone took a copy of the trail (the copy may hold personal data)."""
    return audit_event_record(
        kind=AuditEvent.Kind.AUDIT_EXPORTED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        data={"scope": scope, "filters": filters},
    )
