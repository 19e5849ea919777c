"""Cash deposits: the kiosk opens a deposit, the kiosk's cash-in module (a device of its own, whose signed
reports kiosk.services.cash_devices verifies) counts notes into escrow; the customer confirms or cancels.

Only counted notes are ever credited: the credit is Σ denomination × count of the escrow, posted with the
cash-in bin counts in one transaction. The lock order is kiosk.locks'. The open deposit and the notes in
escrow are the session's DepositEscrow row, from deposit_open until the confirm or the cancel.
Each credited deposit is also a row of the bin's ledger (CashInDeposit) with its session, so a count
difference names the deposits since the last count (kiosk.services.cash_office).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.errors import AccountsError
from accounts.models import BankAccount, Transaction
from accounts.selectors import account_deposits_today
from accounts.services import deposit_create, idempotency_key_check
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..errors import KioskError
from ..locks import account_lock, cash_in_device_lock, session_lock
from ..models import CashInBin, CashInDeposit, CashInDevice, DepositEscrow, Kiosk, KioskSession
from .operations import MENU_STATES, Receipt, _active_kiosk, _menu_session
from .sessions import session_get, session_refresh, session_require

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
        raise ApplicationError(KioskError.DEPOSIT_NO_NOTES)
    accepted = deposit_denominations(currency=currency)
    notes: Notes = {}
    for key, count in raw.items():
        text = str(key).strip()
        # isascii(): str.isdigit() also accepts "²", which int() refuses (a 500 before this check).
        if not (text.isascii() and text.isdigit()) or len(text) > 6 or int(text) not in accepted:
            raise ApplicationError(
                KioskError.DEPOSIT_DENOMINATION, params={"note": text[:12]}, extra={"accepted": accepted}
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ApplicationError(KioskError.DEPOSIT_COUNT_INVALID)
        if count > settings.KIOSK_DEPOSIT_MAX_NOTES:
            raise ApplicationError(
                KioskError.DEPOSIT_TOO_MANY_NOTES,
                params={"max": settings.KIOSK_DEPOSIT_MAX_NOTES},
                extra={"max_notes": settings.KIOSK_DEPOSIT_MAX_NOTES},
            )
        if count:
            notes[int(text)] = notes.get(int(text), 0) + count
    if not notes:
        raise ApplicationError(KioskError.DEPOSIT_NO_NOTES)
    return dict(sorted(notes.items(), reverse=True))


def _limits_check(*, notes: Notes, account: BankAccount) -> Decimal:
    """Per-deposit and daily limits, checked at escrow and again under the account lock at confirm."""
    if sum(notes.values()) > settings.KIOSK_DEPOSIT_MAX_NOTES:
        raise ApplicationError(
            KioskError.DEPOSIT_TOO_MANY_NOTES,
            params={"max": settings.KIOSK_DEPOSIT_MAX_NOTES},
            extra={"max_notes": settings.KIOSK_DEPOSIT_MAX_NOTES},
        )
    total = notes_total(notes)
    largest = min(settings.KIOSK_DEPOSIT_MAX_AMOUNT, settings.ACCOUNT_MAX_TRANSACTION)
    if total > largest:
        raise ApplicationError(
            KioskError.DEPOSIT_AMOUNT_LIMIT, params={"max": largest}, extra={"max_amount": str(largest)}
        )
    if account_deposits_today(account=account) >= settings.KIOSK_DEPOSITS_PER_DAY:
        raise ApplicationError(
            KioskError.DEPOSIT_DAILY_COUNT,
            status_code=409,
            extra={"max_per_day": settings.KIOSK_DEPOSITS_PER_DAY},
        )
    if account.balance + total > settings.ACCOUNT_MAX_BALANCE:
        raise ApplicationError(AccountsError.BALANCE_LIMIT, status_code=409)
    return total


@dataclass(frozen=True)
class Escrow:
    session: KioskSession
    notes: Notes
    total: Decimal
    currency: str
    idempotency_key: str


def _escrow(session: KioskSession, deposit: DepositEscrow | None, currency: str) -> Escrow:
    notes = _notes_loaded(deposit.notes) if deposit is not None else {}
    return Escrow(
        session=session,
        notes=notes,
        total=notes_total(notes),
        currency=currency,
        idempotency_key=deposit.idempotency_key if deposit is not None else "",
    )


def _deposit_of(session: KioskSession) -> DepositEscrow | None:
    """The session's open deposit, if any. Its row changes only under the session lock (kiosk.locks)."""
    return DepositEscrow.objects.filter(session=session).first()


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


def _clear_deposit(deposit: DepositEscrow) -> None:
    """The deposit is over (credited or returned): no open deposit is left on the session."""
    deposit.delete()


def _cash_in_unavailable() -> ApplicationError:
    return ApplicationError(KioskError.CASH_IN_UNAVAILABLE, status_code=409)


def deposit_open(*, kiosk: Kiosk, public_id: str | UUID) -> KioskSession:
    """The customer chose to deposit: the kiosk's cash-in module may now report a count for this session."""
    session_refresh(kiosk=kiosk, public_id=public_id)
    with transaction.atomic(durable=True):
        locked_kiosk = _active_kiosk(kiosk)
        session = _menu_session(kiosk=kiosk, public_id=public_id, now=timezone.now())
        if not CashInDevice.objects.filter(kiosk=locked_kiosk, revoked_at__isnull=True).exists():
            raise _cash_in_unavailable()
        account = BankAccount.objects.get(pk=session.money_account_id)
        if account.currency != locked_kiosk.currency:
            raise ApplicationError(
                KioskError.CURRENCY_MISMATCH, params={"currency": locked_kiosk.currency}, status_code=409
            )
        DepositEscrow.objects.get_or_create(session=session, defaults={"opened_at": timezone.now()})
        return session


def deposit_escrow_get(*, kiosk: Kiosk, public_id: str | UUID) -> Escrow | None:
    """What the cash-in module counted for this session's open deposit, or None yet (the kiosk page polls)."""
    session = session_refresh(kiosk=kiosk, public_id=public_id)
    # An ended or timed-out session answers its 409, so a waiting kiosk page stops polling and says so.
    session_require(session, states=MENU_STATES, now=timezone.now())
    deposit = _deposit_of(session)
    if deposit is None or not deposit.idempotency_key:
        return None
    return _escrow(session, deposit, kiosk.currency)


def _open_deposit_session(kiosk: Kiosk, public_id: str | UUID | None) -> str | UUID:
    """The session a count report is for: the one named (checked below), else the kiosk's open deposit."""
    if public_id:
        return public_id
    found = (
        KioskSession.objects.filter(kiosk=kiosk, state__in=MENU_STATES, deposit_escrow__isnull=False)
        .order_by("-deposit_escrow__opened_at")
        .values_list("public_id", flat=True)
        .first()
    )
    if found is None:
        raise _not_open()
    return found


def _not_open() -> ApplicationError:
    return ApplicationError(KioskError.DEPOSIT_NOT_OPEN, status_code=409)


def _device_counter_take(device: CashInDevice, *, kiosk: Kiosk, counter: int, now: datetime) -> CashInDevice:
    # Under the kiosk lock (taken first): two reports of one module serialise here, so a counter is used once.
    locked = cash_in_device_lock(device)
    if locked.revoked_at is not None or locked.kiosk_id != kiosk.pk:
        raise ApplicationError(KioskError.CASH_IN_DEVICE_UNKNOWN, status_code=403)
    if counter <= locked.last_counter:
        raise ApplicationError(KioskError.CASH_IN_REPORT_REPLAYED, status_code=409)
    locked.last_counter, locked.last_report_at = counter, now
    locked.save(update_fields=["last_counter", "last_report_at"])
    return locked


def deposit_escrow(
    *,
    kiosk: Kiosk,
    device: CashInDevice,
    counter: int,
    public_id: str | UUID | None,
    notes: object,
    idempotency_key: str,
) -> Escrow:
    """The kiosk's cash-in module (its signature already verified) reports the notes it counted into the
    escrow of the deposit the kiosk opened. Nothing is credited yet.

    A repeated report (a new counter) with the same key and notes answers the same escrow (a device retry).
    """
    key = idempotency_key_check(idempotency_key)
    public_id = _open_deposit_session(kiosk, public_id)
    session_refresh(kiosk=kiosk, public_id=public_id)
    with transaction.atomic(durable=True):
        now = timezone.now()
        locked_kiosk = _active_kiosk(kiosk)
        device = _device_counter_take(device, kiosk=locked_kiosk, counter=counter, now=now)
        counted = deposit_notes_parse(raw=notes, currency=locked_kiosk.currency)
        session = _menu_session(kiosk=kiosk, public_id=public_id, now=now)
        deposit = _deposit_of(session)
        if deposit is None:
            raise _not_open()
        if deposit.idempotency_key:
            if deposit.idempotency_key == key and _notes_loaded(deposit.notes) == counted:
                return _escrow(session, deposit, locked_kiosk.currency)
            raise ApplicationError(KioskError.DEPOSIT_ESCROW_HELD, status_code=409)
        account = account_lock(session.money_account_id)
        if account.currency != locked_kiosk.currency:
            raise ApplicationError(
                KioskError.CURRENCY_MISMATCH, params={"currency": locked_kiosk.currency}, status_code=409
            )
        if Transaction.objects.filter(account=account, idempotency_key=key).exists():
            raise ApplicationError(AccountsError.IDEMPOTENCY_CONFLICT, status_code=409)
        total = _limits_check(notes=counted, account=account)
        _escrow_hold(deposit, device=device, counted=counted, key=key, now=now)
        _escrow_audit(
            session,
            kind=AuditEvent.Kind.DEPOSIT_ESCROWED,
            kiosk=locked_kiosk,
            data={"notes": deposit.notes, "total": str(total), "device_id": device.device_id},
        )
        return _escrow(session, deposit, locked_kiosk.currency)


def _escrow_hold(
    deposit: DepositEscrow, *, device: CashInDevice, counted: Notes, key: str, now: datetime
) -> None:
    deposit.notes = _notes_stored(counted)
    deposit.idempotency_key = key
    deposit.escrowed_at = now
    deposit.device = device
    deposit.save(update_fields=["notes", "idempotency_key", "escrowed_at", "device"])


def _no_escrow() -> ApplicationError:
    return ApplicationError(KioskError.DEPOSIT_NO_ESCROW, status_code=409)


def deposit_confirm(*, kiosk: Kiosk, public_id: str | UUID, idempotency_key: str) -> Receipt:
    """The customer confirms the counted total: credit it and move the notes into the bin, atomically.

    A retried confirm with the escrow's key answers the first receipt and writes nothing.
    """
    key = idempotency_key_check(idempotency_key)
    session_refresh(kiosk=kiosk, public_id=public_id)
    with transaction.atomic(durable=True):
        return _confirm(kiosk=kiosk, public_id=public_id, key=key, now=timezone.now())


def _confirm(*, kiosk: Kiosk, public_id: str | UUID, key: str, now: datetime) -> Receipt:
    locked_kiosk = _active_kiosk(kiosk)
    session = _menu_session(kiosk=kiosk, public_id=public_id, now=now)
    # The account lock deposit_create takes, taken here so the replay check and the daily count see the
    # committed ledger: two confirms of one escrow credit it once.
    account = account_lock(session.money_account_id)
    previous = Transaction.objects.filter(account=account, idempotency_key=key).first()
    if previous is not None:
        if previous.kind != Transaction.Kind.DEPOSIT or "notes" not in previous.details:
            raise ApplicationError(AccountsError.IDEMPOTENCY_CONFLICT, status_code=409)
        notes = _notes_loaded(previous.details["notes"])
        return Receipt(session=session, transaction=previous, notes=notes, repeated=True)
    deposit = _deposit_of(session)
    if deposit is None or not deposit.idempotency_key or deposit.idempotency_key != key:
        raise _no_escrow()
    notes = _notes_loaded(deposit.notes)
    total = _limits_check(notes=notes, account=account)
    for value, count in notes.items():
        bin_notes, _created = CashInBin.objects.get_or_create(kiosk=locked_kiosk, denomination=value)
        bin_notes.count += count
        bin_notes.save(update_fields=["count"])
    device_pk = deposit.device_id
    _clear_deposit(deposit)
    # Last: deposit_create records the audit event (the chain head lock) after every other write.
    entry = deposit_create(
        account=account,
        amount=total,
        idempotency_key=key,
        card=session.card,
        kiosk=locked_kiosk,
        details={"channel": "kiosk", "session": str(session.public_id), "notes": _notes_stored(notes)},
    )
    # The bin's ledger row: which session's notes went into the bin, counted by which module.
    CashInDeposit.objects.create(
        kiosk=locked_kiosk,
        session=session,
        transaction=entry,
        device_id=device_pk,
        notes=_notes_stored(notes),
        total=total,
        currency=locked_kiosk.currency,
        customer_id=session.owner_customer_id,
        card_last4=session.card_last4,
        confirmed_at=now,
    )
    return Receipt(session=session, transaction=entry, notes=notes, repeated=False)


def deposit_cancel(*, kiosk: Kiosk, public_id: str | UUID) -> Escrow:
    """The customer cancels: the module returns the notes; nothing reaches the ledger or the bin.

    Allowed on an ended session too: a device agent that returns notes left in escrow when the session ended
    (timeout, card taken) reports it here, and the return is audited.
    """
    session_refresh(kiosk=kiosk, public_id=public_id)
    with transaction.atomic(durable=True):
        session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
        deposit = _deposit_of(session)
        if deposit is None or not deposit.idempotency_key:
            if deposit is None:
                raise _no_escrow()
            # Opened, nothing counted yet: the customer went back; the module may no longer report.
            _clear_deposit(deposit)
            return _escrow(session, None, kiosk.currency)
        returned = _escrow(session, deposit, kiosk.currency)
        _clear_deposit(deposit)
        _escrow_audit(
            session,
            kind=AuditEvent.Kind.DEPOSIT_CANCELLED,
            kiosk=kiosk,
            data={"notes_returned": _notes_stored(returned.notes), "total": str(returned.total)},
        )
        return returned
