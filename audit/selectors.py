"""Reads of the audit trail: chain verification and the snapshot review queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from .chain import CHAINED_FIELDS, GENESIS_HASH, event_hash, personal_digest
from .models import AuditChainHead, AuditEvent, AuditSnapshot

_COLUMNS = (*CHAINED_FIELDS, "personal", "personal_erased", "prev_hash", "hash")
CHAIN_STATUS_CACHE_KEY = "audit:chain_status"


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int  # rows walked
    head_seq: int
    broken_seq: int | None = None  # first seq whose row is missing, altered or mislinked
    reason: str = ""
    checked_at: dt.datetime = field(default_factory=timezone.now)

    def __str__(self) -> str:
        if self.ok:
            return f"OK: {self.checked} events verified, head at #{self.head_seq}"
        return f"BROKEN at #{self.broken_seq}: {self.reason} ({self.checked} events walked)"


def _head() -> tuple[int, str]:
    head = AuditChainHead.objects.filter(id=1).values_list("seq", "hash").first()
    return head or (0, GENESIS_HASH)


def _row_problem(row: dict, *, expected_seq: int, prev_hash: str) -> str:
    if row["seq"] != expected_seq:
        return f"seq {expected_seq} is missing (the next row is #{row['seq']})"
    if row["prev_hash"] != prev_hash:
        return "prev_hash does not match the hash of the previous event"
    if event_hash(values=row, prev_hash=row["prev_hash"]) != row["hash"]:
        return "content does not match its hash (the row was edited)"
    if not row["personal_erased"]:
        digest = row["personal_digest"]
        salt = digest.split(":", 1)[0] if digest else ""
        if personal_digest(personal=row["personal"], salt=salt) != digest:
            return "personal data does not match its digest"
    return ""


def chain_verify(*, chunk_size: int = 2000) -> ChainStatus:
    """Walk every event in seq order, recomputing each hash from the stored row; stop at the first break.

    Streams rows (iterator) so memory stays flat however long the trail is. The head is read first: every
    event up to it is committed, so concurrent appends during the walk are verified too (they must link on)
    but cannot make a good chain look broken.
    """
    head_seq, head_hash = _head()
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    rows = AuditEvent.objects.order_by("seq").values(*_COLUMNS).iterator(chunk_size=chunk_size)
    for row in rows:
        problem = _row_problem(row, expected_seq=expected_seq, prev_hash=prev_hash)
        if problem:
            return ChainStatus(False, checked, head_seq, broken_seq=expected_seq, reason=problem)
        if row["seq"] == head_seq and row["hash"] != head_hash:
            return ChainStatus(False, checked, head_seq, broken_seq=row["seq"], reason="head hash differs")
        checked += 1
        expected_seq, prev_hash = row["seq"] + 1, row["hash"]
    last_seq = expected_seq - 1
    if last_seq < head_seq:
        return ChainStatus(
            False, checked, head_seq, broken_seq=expected_seq, reason=f"events after #{last_seq} are missing"
        )
    if last_seq > head_seq:
        # Rows appended while we walked are fine once the head has moved on to cover them.
        head_seq, head_hash = _head()
        if last_seq > head_seq:
            return ChainStatus(
                False, checked, head_seq, broken_seq=head_seq + 1, reason="events beyond the chain head"
            )
        if last_seq == head_seq and prev_hash != head_hash:
            return ChainStatus(False, checked, head_seq, broken_seq=last_seq, reason="head hash differs")
    return ChainStatus(True, checked, head_seq)


def chain_status_recent(*, max_age_seconds: int = 60) -> ChainStatus:
    """chain_verify(), reused for up to `max_age_seconds`: the admin shows it on every changelist page,
    and a full walk of a long trail costs seconds (about 15,000 rows/s). `audit_verify` always walks."""
    status = cache.get(CHAIN_STATUS_CACHE_KEY)
    if not isinstance(status, ChainStatus):
        status = chain_verify()
        cache.set(CHAIN_STATUS_CACHE_KEY, status, max_age_seconds)
    return status


def snapshots_for_review(*, status: str = "", event_id: int | None = None) -> QuerySet[AuditSnapshot]:
    """Snapshots whose file still exists, newest first, optionally by review status or event."""
    snapshots = AuditSnapshot.objects.filter(purged_at__isnull=True).select_related("event", "reviewed_by")
    if status:
        snapshots = snapshots.filter(status=status)
    if event_id is not None:
        snapshots = snapshots.filter(event_id=event_id)
    return snapshots
