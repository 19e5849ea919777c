"""Reads of the audit trail: chain verification and the snapshot review queue."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.apps import apps
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from .chain import CHAINED_FIELDS, GENESIS_HASH, ChainKey, chain_keys, event_hash, personal_digest
from .checkpoints import Anchor, Checkpoint, anchor_load
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
    checkpoint: Checkpoint | None = None  # the witness's newest checkpoint the chain was checked against
    anchor_problem: str = (
        ""  # why the witness's checkpoints could not be trusted or read (chain_status_recent)
    )

    @property
    def anchored(self) -> bool:
        return self.ok and self.checkpoint is not None and not self.anchor_problem

    @property
    def unanchored_events(self) -> int:
        """Events after the newest checkpoint: those a holder of the chain key could still cut off unseen."""
        return self.head_seq - (self.checkpoint.seq if self.checkpoint else 0)

    def __str__(self) -> str:
        if self.ok:
            anchored = f"; matches the witness's {self.checkpoint}" if self.checkpoint else ""
            return f"OK: {self.checked} events verified, head at #{self.head_seq}{anchored}"
        return f"BROKEN at #{self.broken_seq}: {self.reason} ({self.checked} events walked)"


def _head() -> tuple[int, str]:
    head = AuditChainHead.objects.filter(id=1).values_list("seq", "hash").first()
    return head or (0, GENESIS_HASH)


def _row_problem(row: dict, *, expected_seq: int, prev_hash: str, keys: dict[str, ChainKey]) -> str:
    if row["seq"] != expected_seq:
        return f"seq {expected_seq} is missing (the next row is #{row['seq']})"
    if row["prev_hash"] != prev_hash:
        return "prev_hash does not match the hash of the previous event"
    key_id = row["chain_key_id"]
    if not key_id:
        return (
            "not chained with AUDIT_CHAIN_KEY (written before the keyed chain and not re-chained because "
            "that chain was already broken, or forged)"
        )
    key = keys.get(key_id)
    if key is None:
        return f"chained with key {key_id}, which is not listed in AUDIT_CHAIN_KEY (keep retired keys listed)"
    if not hmac.compare_digest(
        event_hash(values=row, prev_hash=row["prev_hash"], secret=key.secret), row["hash"]
    ):
        return "content does not match its hash (the row was edited)"
    if not row["personal_erased"]:
        digest = row["personal_digest"]
        salt = digest.split(":", 1)[0] if digest else ""
        if personal_digest(personal=row["personal"], salt=salt) != digest:
            return "personal data does not match its digest"
    return ""


def chain_verify(*, chunk_size: int = 2000, checkpoints: Sequence[Checkpoint] = ()) -> ChainStatus:
    """Walk the events in seq order, recomputing each keyed hash from the stored row; stop at the first break.

    With the witness's `checkpoints` (signed outside the portal, audit.checkpoints.anchor_load) EVERY event a
    checkpoint names must still be there with the same hash, and the chain may not end before the last of
    them: that catches a holder of the chain key who recomputed the hashes after an edit (older checkpoints
    contradict it) or cut off the tail.

    Streams rows (iterator) so memory stays flat however long the trail is. The head is read first: every
    event up to it is committed, so concurrent appends during the walk are verified too (they must link on)
    but cannot make a good chain look broken.
    """
    keys = chain_keys()
    head_seq, head_hash = _head()
    anchored = {checkpoint.seq: checkpoint for checkpoint in checkpoints}
    newest = max(checkpoints, key=lambda checkpoint: checkpoint.seq, default=None)

    def broken(checked: int, seq: int | None, reason: str) -> ChainStatus:
        return ChainStatus(False, checked, head_seq, broken_seq=seq, reason=reason, checkpoint=newest)

    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    rows = AuditEvent.objects.order_by("seq")
    for row in rows.values(*_COLUMNS).iterator(chunk_size=chunk_size):
        problem = _row_problem(row, expected_seq=expected_seq, prev_hash=prev_hash, keys=keys)
        if problem:
            return broken(checked, expected_seq, problem)
        checkpoint = anchored.get(row["seq"])
        if checkpoint is not None and row["hash"] != checkpoint.hash:
            return broken(
                checked,
                row["seq"],
                f"the witness's {checkpoint} signed another hash for this event: the chain was recomputed "
                "after an edit",
            )
        if row["seq"] == head_seq and row["hash"] != head_hash:
            return broken(checked, row["seq"], "head hash differs")
        checked += 1
        expected_seq, prev_hash = row["seq"] + 1, row["hash"]
    last_seq = expected_seq - 1
    if newest is not None and last_seq < newest.seq:
        return broken(
            checked,
            last_seq + 1,
            f"the chain ends at #{last_seq}, shorter than the witness's {newest}: events were deleted",
        )
    if last_seq < head_seq:
        return broken(checked, expected_seq, f"events after #{last_seq} are missing")
    if last_seq > head_seq:
        # Rows appended while we walked are fine once the head has moved on to cover them.
        head_seq, head_hash = _head()
        if last_seq > head_seq:
            return broken(checked, head_seq + 1, "events beyond the chain head")
        if last_seq == head_seq and prev_hash != head_hash:
            return broken(checked, last_seq, "head hash differs")
    return ChainStatus(True, checked, head_seq, checkpoint=newest)


def chain_status_recent(*, max_age_seconds: int = 60) -> ChainStatus:
    """chain_verify() against the witness's checkpoints, reused for up to `max_age_seconds`: the admin shows
    it on every changelist page, and a full walk of a long trail costs seconds (about 15,000 rows/s).
    `audit_verify` always walks."""
    status = cache.get(CHAIN_STATUS_CACHE_KEY)
    if not isinstance(status, ChainStatus):
        anchor: Anchor = anchor_load()
        status = replace(chain_verify(checkpoints=anchor.checkpoints), anchor_problem=anchor.problem)
        cache.set(CHAIN_STATUS_CACHE_KEY, status, max_age_seconds)
    return status


@dataclass(frozen=True)
class SnapshotMark:
    seq: int
    at: dt.datetime
    by: str
    status: str
    note: str


def snapshot_marks(*, snapshot_ids: Sequence[int]) -> dict[int, list[SnapshotMark]]:
    """Every mark of these snapshots, newest first, read from their SNAPSHOT_MARKED events (chained: a note
    cannot be rewritten unseen, and re-marking never hides an earlier one)."""
    marks: dict[int, list[SnapshotMark]] = {snapshot_id: [] for snapshot_id in snapshot_ids}
    if not marks:
        return marks
    events = (
        AuditEvent.objects.filter(kind=AuditEvent.Kind.SNAPSHOT_MARKED, data__snapshot_id__in=list(marks))
        .order_by("-seq")
        .values_list("seq", "created_at", "actor_username", "data")
    )
    for seq, created_at, username, data in events:
        marks.setdefault(int(data["snapshot_id"]), []).append(
            SnapshotMark(seq, created_at, username, str(data.get("status", "")), str(data.get("note", "")))
        )
    return marks


def snapshots_for_review(*, status: str = "", event_id: int | None = None) -> QuerySet[AuditSnapshot]:
    """Snapshots whose file still exists, newest first, optionally by review status or event."""
    snapshots = AuditSnapshot.objects.filter(purged_at__isnull=True).select_related("event", "reviewed_by")
    if status:
        snapshots = snapshots.filter(status=status)
    if event_id is not None:
        snapshots = snapshots.filter(event_id=event_id)
    return snapshots


def customer_ids_by_name(term: str, *, limit: int = 500) -> list[int]:
    """Ids of the customers whose full name holds every word of `term` (any case); [] for a blank term."""
    # audit sits below accounts: its table is reached through the app registry, not an import.
    Customer = apps.get_model("accounts", "Customer")
    words = term.split()[:5]
    if not words:
        return []
    customers = Customer.objects.all()
    for word in words:
        customers = customers.filter(full_name__icontains=word[:100])
    return list(customers.values_list("pk", flat=True)[:limit])
