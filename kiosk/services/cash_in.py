"""Cash deposits: the kiosk's cash-in module counts notes into escrow; the customer confirms or cancels.

Only counted notes are ever credited: the credit is Σ denomination × count of the escrow, posted with the
cash-in bin counts in one transaction. The lock order is the kiosk's (kiosk → session → account → audit head).
The back office empties and counts each bin; a difference against the credited deposits is an audit event
and a row on the reconciliation list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import BankAccount, Transaction
from accounts.selectors import account_deposits_today
from accounts.services import deposit_create, idempotency_key_check
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..models import CashInBin, CashInReconciliation, Cassette, Kiosk, KioskSession
from .operations import Receipt, _active_kiosk, _menu_session
from .sessions import session_get, session_lock, session_refresh

Notes = dict[int, int]


def deposit_denominations(*, currency: str) -> list[int]:
    """The notes the cash-in module accepts for `currency` (KIOSK_DEPOSIT_DENOMINATIONS)."""
    return list(settings.KIOSK_DEPOSIT_DENOMINATIONS.get(currency.upper(), []))


def notes_total(notes: Notes) -> Decimal:
    return Decimal(sum(value * count for value, count in notes.items())).quantize(Decimal("0.01"))


def _notes_stored(notes: Notes) -> dict[str, int]:
    return {str(value): count for value, count in sorted(notes.items(), reverse=True)}


def _notes_loaded(raw: dict[str, int]) -> Notes:
    # Largest note first, whatever order the JSON column kept (PostgreSQL's jsonb sorts keys as text).
    return dict(sorted(((int(value), int(count)) for value, count in raw.items()), reverse=True))


def deposit_notes_parse(*, raw: object, currency: str) -> Notes:
    """The counted notes as {denomination: count}, or a 400 naming what is wrong. No zero counts kept."""
    if not isinstance(raw, dict) or not raw:
        raise ApplicationError(_("No notes were counted."), code="deposit_no_notes")
    accepted = deposit_denominations(currency=currency)
    notes: Notes = {}
    for key, count in raw.items():
        text = str(key).strip()
        if not text.isdigit() or len(text) > 6 or int(text) not in accepted:
            raise ApplicationError(
                _("This kiosk does not accept %(note)s notes.") % {"note": text[:12]},
                code="deposit_denomination",
                extra={"accepted": accepted},
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ApplicationError(
                _("A note count must be a whole number, zero or more."), code="deposit_count_invalid"
            )
        if count > settings.KIOSK_DEPOSIT_MAX_NOTES:
            raise ApplicationError(
                _("Too many notes in one deposit (at most %(max)d).")
                % {"max": settings.KIOSK_DEPOSIT_MAX_NOTES},
                code="deposit_too_many_notes",
                extra={"max_notes": settings.KIOSK_DEPOSIT_MAX_NOTES},
            )
        if count:
            notes[int(text)] = notes.get(int(text), 0) + count
    if not notes:
        raise ApplicationError(_("No notes were counted."), code="deposit_no_notes")
    return dict(sorted(notes.items(), reverse=True))


def _limits_check(*, notes: Notes, account: BankAccount) -> Decimal:
    """Per-deposit and daily limits, checked at escrow and again under the account lock at confirm."""
    if sum(notes.values()) > settings.KIOSK_DEPOSIT_MAX_NOTES:
        raise ApplicationError(
            _("Too many notes in one deposit (at most %(max)d).") % {"max": settings.KIOSK_DEPOSIT_MAX_NOTES},
            code="deposit_too_many_notes",
            extra={"max_notes": settings.KIOSK_DEPOSIT_MAX_NOTES},
        )
    total = notes_total(notes)
    largest = min(settings.KIOSK_DEPOSIT_MAX_AMOUNT, settings.ACCOUNT_MAX_TRANSACTION)
    if total > largest:
        raise ApplicationError(
            _("This deposit is above the largest allowed (%(max)s).") % {"max": largest},
            code="deposit_amount_limit",
            extra={"max_amount": str(largest)},
        )
    if account_deposits_today(account=account) >= settings.KIOSK_DEPOSITS_PER_DAY:
        raise ApplicationError(
            _("The number of deposits for today has been reached."),
            code="deposit_daily_count",
            status_code=409,
            extra={"max_per_day": settings.KIOSK_DEPOSITS_PER_DAY},
        )
    if account.balance + total > settings.ACCOUNT_MAX_BALANCE:
        raise ApplicationError(
            _("This deposit would take the balance above the largest allowed."),
            code="balance_limit",
            status_code=409,
        )
    return total


@dataclass(frozen=True)
class Escrow:
    session: KioskSession
    notes: Notes
    total: Decimal
    currency: str
    idempotency_key: str


def _escrow(session: KioskSession, currency: str) -> Escrow:
    notes = _notes_loaded(session.deposit_escrow_notes)
    return Escrow(
        session=session,
        notes=notes,
        total=notes_total(notes),
        currency=currency,
        idempotency_key=session.deposit_escrow_key,
    )


def _escrow_audit(session: KioskSession, *, kind: str, kiosk: Kiosk, data: dict[str, object]) -> None:
    """An escrow event of this session: notes counted in or returned (a confirm is audited as the deposit)."""
    audit_event_record(
        kind=kind,
        outcome=AuditEvent.Outcome.INFO,
        kiosk_id=kiosk.pk,
        customer_id=session.owner_customer_id,
        card_last4=session.card_last4,
        data={"session": str(session.public_id), **data, "currency": kiosk.currency},
    )


def deposit_escrow(*, kiosk: Kiosk, public_id: str | UUID, notes: object, idempotency_key: str) -> Escrow:
    """The cash-in module reports the notes it counted into escrow. Nothing is credited yet.

    A repeated report with the same key and notes answers the same escrow (a device agent's retry).
    """
    key = idempotency_key_check(idempotency_key)
    session_refresh(kiosk=kiosk, public_id=public_id)
    with transaction.atomic():
        now = timezone.now()
        locked_kiosk = _active_kiosk(kiosk)
        counted = deposit_notes_parse(raw=notes, currency=locked_kiosk.currency)
        session = _menu_session(kiosk=kiosk, public_id=public_id, now=now)
        if session.deposit_escrow_key:
            if session.deposit_escrow_key == key and _notes_loaded(session.deposit_escrow_notes) == counted:
                return _escrow(session, locked_kiosk.currency)
            raise ApplicationError(
                _("Notes are already waiting in escrow: confirm or cancel them first."),
                code="deposit_escrow_held",
                status_code=409,
            )
        account = BankAccount.objects.select_for_update().get(pk=session.money_account_id)
        if account.currency != locked_kiosk.currency:
            raise ApplicationError(
                _("This kiosk accepts %(currency)s only.") % {"currency": locked_kiosk.currency},
                code="currency_mismatch",
                status_code=409,
            )
        if Transaction.objects.filter(account=account, idempotency_key=key).exists():
            raise ApplicationError(
                _("This idempotency key was already used for a different operation."),
                code="idempotency_conflict",
                status_code=409,
            )
        total = _limits_check(notes=counted, account=account)
        session.deposit_escrow_notes = _notes_stored(counted)
        session.deposit_escrow_key = key
        session.deposit_escrowed_at = now
        session.save(update_fields=["deposit_escrow_notes", "deposit_escrow_key", "deposit_escrowed_at"])
        _escrow_audit(
            session,
            kind=AuditEvent.Kind.DEPOSIT_ESCROWED,
            kiosk=locked_kiosk,
            data={"notes": session.deposit_escrow_notes, "total": str(total)},
        )
        return _escrow(session, locked_kiosk.currency)


def _no_escrow() -> ApplicationError:
    return ApplicationError(
        _("There are no counted notes waiting to be confirmed."), code="deposit_no_escrow", status_code=409
    )


def deposit_confirm(*, kiosk: Kiosk, public_id: str | UUID, idempotency_key: str) -> Receipt:
    """The customer confirms the counted total: credit it and move the notes into the bin, atomically.

    A retried confirm with the escrow's key answers the first receipt and writes nothing.
    """
    key = idempotency_key_check(idempotency_key)
    session_refresh(kiosk=kiosk, public_id=public_id)
    with transaction.atomic():
        return _confirm(kiosk=kiosk, public_id=public_id, key=key, now=timezone.now())


def _confirm(*, kiosk: Kiosk, public_id: str | UUID, key: str, now: datetime) -> Receipt:
    locked_kiosk = _active_kiosk(kiosk)
    session = _menu_session(kiosk=kiosk, public_id=public_id, now=now)
    # The account lock deposit_create takes, taken here so the replay check and the daily count see the
    # committed ledger: two confirms of one escrow credit it once.
    account = BankAccount.objects.select_for_update().get(pk=session.money_account_id)
    previous = Transaction.objects.filter(account=account, idempotency_key=key).first()
    if previous is not None:
        if previous.kind != Transaction.Kind.DEPOSIT or "notes" not in previous.details:
            raise ApplicationError(
                _("This idempotency key was already used for a different operation."),
                code="idempotency_conflict",
                status_code=409,
            )
        notes = _notes_loaded(previous.details["notes"])
        return Receipt(session=session, transaction=previous, notes=notes, repeated=True)
    if not session.deposit_escrow_key or session.deposit_escrow_key != key:
        raise _no_escrow()
    notes = _notes_loaded(session.deposit_escrow_notes)
    total = _limits_check(notes=notes, account=account)
    for value, count in notes.items():
        bin_notes, _created = CashInBin.objects.get_or_create(kiosk=locked_kiosk, denomination=value)
        bin_notes.count += count
        bin_notes.save(update_fields=["count"])
    session.deposit_escrow_notes, session.deposit_escrow_key, session.deposit_escrowed_at = {}, "", None
    session.save(update_fields=["deposit_escrow_notes", "deposit_escrow_key", "deposit_escrowed_at"])
    # Last: deposit_create records the audit event (the chain head lock) after every other write.
    entry = deposit_create(
        account=account,
        amount=total,
        idempotency_key=key,
        card=session.card,
        kiosk=locked_kiosk,
        details={"channel": "kiosk", "session": str(session.public_id), "notes": _notes_stored(notes)},
    )
    return Receipt(session=session, transaction=entry, notes=notes, repeated=False)


def deposit_cancel(*, kiosk: Kiosk, public_id: str | UUID) -> Escrow:
    """The customer cancels: the module returns the notes; nothing reaches the ledger or the bin.

    Allowed on an ended session too: a device agent that returns notes left in escrow when the session ended
    (timeout, card taken) reports it here, and the return is audited.
    """
    session_refresh(kiosk=kiosk, public_id=public_id)
    with transaction.atomic():
        session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
        if not session.deposit_escrow_key:
            raise _no_escrow()
        returned = _escrow(session, kiosk.currency)
        session.deposit_escrow_notes, session.deposit_escrow_key, session.deposit_escrowed_at = {}, "", None
        session.save(update_fields=["deposit_escrow_notes", "deposit_escrow_key", "deposit_escrowed_at"])
        _escrow_audit(
            session,
            kind=AuditEvent.Kind.DEPOSIT_CANCELLED,
            kiosk=kiosk,
            data={"notes_returned": _notes_stored(returned.notes), "total": str(returned.total)},
        )
        return returned


# --- Back office ----------------------------------------------------------------------------------------


def _counts_parse(raw: Mapping[int, object]) -> Notes:
    counts: Notes = {}
    for value, count in raw.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0 or count > 1_000_000:
            raise ApplicationError(
                "Each count must be a whole number from 0 to 1,000,000.", code="count_invalid"
            )
        if int(value) <= 0:
            raise ApplicationError("A denomination must be positive.", code="denomination_invalid")
        counts[int(value)] = count
    return counts


@transaction.atomic
def cash_in_bin_empty(*, kiosk: Kiosk, counted: Mapping[int, object], actor: User) -> CashInReconciliation:
    """Staff emptied the bin and counted it: compare with what credited deposits put in, reset the bin.

    Any difference (in the total or in any denomination) is recorded as a failure event of its own.
    """
    counted_notes = _counts_parse(counted)
    # Kiosk row first: no deposit can add to the bin between reading the expected counts and resetting them.
    locked_kiosk = Kiosk.objects.select_for_update().get(pk=kiosk.pk)
    bins = list(CashInBin.objects.filter(kiosk=locked_kiosk))
    expected_notes = {row.denomination: row.count for row in bins if row.count}
    counted_notes = {value: count for value, count in counted_notes.items() if count}
    expected_total, counted_total = notes_total(expected_notes), notes_total(counted_notes)
    reconciliation = CashInReconciliation.objects.create(
        kiosk=locked_kiosk,
        counted_at=timezone.now(),
        counted_by=actor,
        currency=locked_kiosk.currency,
        expected_notes=_notes_stored(expected_notes),
        counted_notes=_notes_stored(counted_notes),
        expected_total=expected_total,
        counted_total=counted_total,
        difference=counted_total - expected_total,
        notes_differ=expected_notes != counted_notes,
    )
    for row in bins:
        if row.count:
            row.count = 0
            row.save(update_fields=["count"])
    data = {
        "reconciliation_id": reconciliation.pk,
        "expected": reconciliation.expected_notes,
        "counted": reconciliation.counted_notes,
        "expected_total": str(expected_total),
        "counted_total": str(counted_total),
        "difference": str(reconciliation.difference),
        "currency": locked_kiosk.currency,
    }
    events = [(AuditEvent.Kind.CASH_IN_BIN_EMPTIED, AuditEvent.Outcome.SUCCESS)]
    if reconciliation.notes_differ:
        events.append((AuditEvent.Kind.CASH_IN_BIN_DIFFERENCE, AuditEvent.Outcome.FAILURE))
    for kind, outcome in events:
        audit_event_record(kind=kind, outcome=outcome, actor=actor, kiosk_id=locked_kiosk.pk, data=data)
    return reconciliation


@transaction.atomic
def cassettes_load(*, kiosk: Kiosk, counts: Mapping[int, object], actor: User) -> dict[int, int]:
    """Staff loaded (or replenished) the dispensing cassettes: set each denomination to the counted notes."""
    loaded = _counts_parse(counts)
    # Kiosk row first, as every withdrawal does: a withdrawal never sees half-loaded cassettes.
    locked_kiosk = Kiosk.objects.select_for_update().get(pk=kiosk.pk)
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
        actor=actor,
        kiosk_id=locked_kiosk.pk,
        data={
            "before": _notes_stored(before),
            "after": _notes_stored(after),
            "total_after": str(notes_total(after)),
            "currency": locked_kiosk.currency,
        },
    )
    return after
