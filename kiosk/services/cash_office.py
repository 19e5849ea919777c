"""Back-office cash: loading cassettes and emptying the cash-in bin, each under dual control (one person
enters a blind count, a second counts again; the counts must agree), and the kiosk's settings (no currency
change while it holds cash). Every step is audited in its own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..errors import KioskError
from ..locks import cash_count_pending_lock, kiosk_lock
from ..models import CashCount, CashInBin, CashInDeposit, CashInReconciliation, Cassette, Kiosk
from .cash_in import Notes, _notes_stored, notes_total

# At most this many deposits are listed in a difference event (the reconciliation's page lists them all).
DIFFERENCE_DEPOSITS_LISTED = 200


def _counts_parse(raw: Mapping[int, object]) -> Notes:
    counts: Notes = {}
    for value, count in raw.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0 or count > 1_000_000:
            raise ApplicationError(KioskError.COUNT_INVALID)
        if int(value) <= 0:
            raise ApplicationError(KioskError.DENOMINATION_INVALID)
        counts[int(value)] = count
    return counts


def _two_people(actor: User, confirmed_by: User) -> None:
    if actor.pk == confirmed_by.pk:
        raise ApplicationError(KioskError.CASH_COUNT_SAME_PERSON, status_code=403)


def _deposits_since_last_count(kiosk: Kiosk) -> list[dict[str, object]]:
    rows = CashInDeposit.objects.filter(kiosk=kiosk, reconciliation__isnull=True).select_related("session")
    return [
        {
            "session": str(row.session.public_id),
            "transaction_id": row.transaction_id,
            "total": str(row.total),
            "notes": row.notes,
            "customer_id": row.customer_id,
            "card_last4": row.card_last4,
            "confirmed_at": row.confirmed_at.isoformat(),
        }
        for row in rows.order_by("confirmed_at", "id")[:DIFFERENCE_DEPOSITS_LISTED]
    ]


@transaction.atomic
def cash_in_bin_empty(
    *, kiosk: Kiosk, counted: Mapping[int, object], actor: User, confirmed_by: User
) -> CashInReconciliation:
    """Two people emptied the bin and counted it: compare with what credited deposits put in, reset the bin,
    and close the bin's ledger rows into this reconciliation. A difference is a failure event of its own that
    lists the deposits since the last count and who confirmed them.
    """
    _two_people(actor, confirmed_by)
    counted_notes = _counts_parse(counted)
    # Kiosk row first: no deposit can add to the bin between reading the expected counts and resetting them.
    locked_kiosk = kiosk_lock(kiosk)
    bins = list(CashInBin.objects.filter(kiosk=locked_kiosk))
    expected_notes = {row.denomination: row.count for row in bins if row.count}
    counted_notes = {value: count for value, count in counted_notes.items() if count}
    expected_total, counted_total = notes_total(expected_notes), notes_total(counted_notes)
    deposits = _deposits_since_last_count(locked_kiosk)
    reconciliation = CashInReconciliation.objects.create(
        kiosk=locked_kiosk,
        counted_at=timezone.now(),
        counted_by=actor,
        confirmed_by=confirmed_by,
        currency=locked_kiosk.currency,
        expected_notes=_notes_stored(expected_notes),
        counted_notes=_notes_stored(counted_notes),
        expected_total=expected_total,
        counted_total=counted_total,
        difference=counted_total - expected_total,
        notes_differ=expected_notes != counted_notes,
    )
    CashInDeposit.objects.filter(kiosk=locked_kiosk, reconciliation__isnull=True).update(
        reconciliation=reconciliation
    )
    for row in bins:
        if row.count:
            row.count = 0
            row.save(update_fields=["count"])
    _bin_count_audit(reconciliation, actor=actor, confirmed_by=confirmed_by, deposits=deposits)
    return reconciliation


def _bin_count_audit(
    reconciliation: CashInReconciliation,
    *,
    actor: User,
    confirmed_by: User,
    deposits: list[dict[str, object]],
) -> None:
    """The count, and a difference as a failure event of its own listing the deposits since the last count."""
    expected_total, counted_total = reconciliation.expected_total, reconciliation.counted_total
    locked_kiosk = reconciliation.kiosk
    data = {
        "reconciliation_id": reconciliation.pk,
        "expected": reconciliation.expected_notes,
        "counted": reconciliation.counted_notes,
        "expected_total": str(expected_total),
        "counted_total": str(counted_total),
        "difference": str(reconciliation.difference),
        "currency": locked_kiosk.currency,
        "counted_by": actor.username,
        "confirmed_by": confirmed_by.username,
    }
    audit_event_record(
        kind=AuditEvent.Kind.CASH_IN_BIN_EMPTIED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=confirmed_by,
        kiosk_id=locked_kiosk.pk,
        data=data,
    )
    if reconciliation.notes_differ:
        audit_event_record(
            kind=AuditEvent.Kind.CASH_IN_BIN_DIFFERENCE,
            outcome=AuditEvent.Outcome.FAILURE,
            actor=confirmed_by,
            kiosk_id=locked_kiosk.pk,
            data={**data, "deposits_since_last_count": deposits},
        )


@transaction.atomic
def cassettes_load(
    *, kiosk: Kiosk, counts: Mapping[int, object], actor: User, confirmed_by: User
) -> dict[int, int]:
    """Two people loaded (or replenished) the cassettes: set each denomination to the counted notes."""
    _two_people(actor, confirmed_by)
    loaded = _counts_parse(counts)
    # Kiosk row first, as every withdrawal does: a withdrawal never sees half-loaded cassettes.
    locked_kiosk = kiosk_lock(kiosk)
    cassettes = {row.denomination: row for row in Cassette.objects.filter(kiosk=locked_kiosk)}
    before = {value: row.count for value, row in cassettes.items()}
    for value, count in loaded.items():
        row = cassettes.get(value)
        if row is None:
            Cassette.objects.create(kiosk=locked_kiosk, denomination=value, count=count)
        elif row.count != count:
            row.count = count
            row.save(update_fields=["count"])
    after = {**before, **loaded}
    audit_event_record(
        kind=AuditEvent.Kind.CASSETTES_LOADED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=confirmed_by,
        kiosk_id=locked_kiosk.pk,
        data={
            "before": _notes_stored(before),
            "after": _notes_stored(after),
            "total_after": str(notes_total(after)),
            "currency": locked_kiosk.currency,
            "loaded_by": actor.username,
            "confirmed_by": confirmed_by.username,
        },
    )
    return after


@dataclass(frozen=True)
class CountOutcome:
    """entered: waiting for a second person; applied: both counts agreed; discarded: they did not."""

    status: str
    reconciliation: CashInReconciliation | None = None
    cassettes: dict[int, int] | None = None


def _count_event(kiosk: Kiosk, *, kind: str, outcome: str, actor: User, data: dict[str, object]) -> None:
    audit_event_record(kind=kind, outcome=outcome, actor=actor, kiosk_id=kiosk.pk, data=data)


@transaction.atomic
def _count_submit(*, kiosk: Kiosk, kind: str, counts: Notes, actor: User) -> CountOutcome:
    locked_kiosk = kiosk_lock(kiosk)
    pending = cash_count_pending_lock(kiosk=locked_kiosk, kind=kind)
    now = timezone.now()
    if pending is None:
        entry = CashCount.objects.create(
            kiosk=locked_kiosk, kind=kind, counts=_notes_stored(counts), entered_by=actor, entered_at=now
        )
        # The counts stay out of this event: the second person must not be able to read them anywhere.
        _count_event(
            locked_kiosk,
            kind=AuditEvent.Kind.CASH_COUNT_ENTERED,
            outcome=AuditEvent.Outcome.INFO,
            actor=actor,
            data={"count_id": entry.pk, "count_kind": kind},
        )
        return CountOutcome("entered")
    _two_people(pending.entered_by, actor)
    pending.confirmed_by, pending.decided_at = actor, now
    first = {int(value): count for value, count in pending.counts.items() if count}
    if first != {value: count for value, count in counts.items() if count}:
        pending.status = CashCount.Status.DISCARDED
        pending.save(update_fields=["status", "confirmed_by", "decided_at"])
        _count_event(
            locked_kiosk,
            kind=AuditEvent.Kind.CASH_COUNT_DISCARDED,
            outcome=AuditEvent.Outcome.FAILURE,
            actor=actor,
            data={"count_id": pending.pk, "count_kind": kind, "entered_by": pending.entered_by.username},
        )
        return CountOutcome("discarded")
    pending.status = CashCount.Status.APPLIED
    pending.save(update_fields=["status", "confirmed_by", "decided_at"])
    if kind == CashCount.Kind.BIN_COUNT:
        reconciliation = cash_in_bin_empty(
            kiosk=locked_kiosk, counted=counts, actor=pending.entered_by, confirmed_by=actor
        )
        return CountOutcome("applied", reconciliation=reconciliation)
    after = cassettes_load(kiosk=locked_kiosk, counts=counts, actor=pending.entered_by, confirmed_by=actor)
    return CountOutcome("applied", cassettes=after)


def cash_count_submit(*, kiosk: Kiosk, kind: str, counts: Mapping[int, object], actor: User) -> CountOutcome:
    """One person's blind count of the bin or the cassettes. The first is kept (not applied); the second
    person's count applies it when the two agree and discards it when not. One person cannot be both: that
    refusal is audited and writes nothing else."""
    parsed = _counts_parse(counts)
    try:
        return _count_submit(kiosk=kiosk, kind=kind, counts=parsed, actor=actor)
    except ApplicationError as error:
        if error.code == KioskError.CASH_COUNT_SAME_PERSON:
            with transaction.atomic():
                _count_event(
                    kiosk,
                    kind=AuditEvent.Kind.CASH_COUNT_ENTERED,
                    outcome=AuditEvent.Outcome.FAILURE,
                    actor=actor,
                    data={"count_kind": kind, "refused": "same_person"},
                )
        raise


def _holds_cash(kiosk: Kiosk) -> bool:
    return (
        Cassette.objects.filter(kiosk=kiosk, count__gt=0).exists()
        or CashInBin.objects.filter(kiosk=kiosk, count__gt=0).exists()
    )


def kiosk_currency_check(*, kiosk: Kiosk, currency: str) -> None:
    """A kiosk's currency cannot change while its cassettes or cash-in bin hold notes (they would be counted
    in the new currency)."""
    if kiosk.pk and currency != kiosk.currency and _holds_cash(kiosk):
        raise ApplicationError(KioskError.KIOSK_CURRENCY_CASH_HELD, status_code=409)


@transaction.atomic
def kiosk_update(*, kiosk: Kiosk, changes: Mapping[str, object], actor: User | None) -> Kiosk:
    """Change a kiosk's name, location, currency or status; the audit event holds old and new values."""
    locked = kiosk_lock(kiosk)
    allowed = {"name", "location", "currency", "status"}
    changed = {name: (getattr(locked, name), value) for name, value in changes.items() if name in allowed}
    changed = {name: pair for name, pair in changed.items() if pair[0] != pair[1]}
    if not changed:
        return locked
    if "currency" in changed:
        kiosk_currency_check(kiosk=locked, currency=str(changed["currency"][1]))
    for name, (_old, new) in changed.items():
        setattr(locked, name, new)
    locked.full_clean()
    locked.save(update_fields=list(changed))
    audit_event_record(
        kind=AuditEvent.Kind.KIOSK_UPDATED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        kiosk_id=locked.pk,
        data={"changes": {name: {"old": old, "new": new} for name, (old, new) in changed.items()}},
    )
    return locked
