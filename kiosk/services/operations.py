"""ATM operations for a verified session (state in_menu): balance, withdrawal, statement (deposits: cash_in).

Every step refreshes the idle timer. Money operations take the locks in the order kiosk → session →
account (withdrawal_create locks the account) → audit head, so cassettes and ledger move together.
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
from accounts.selectors import account_withdrawn_today, transactions_recent
from accounts.services import idempotency_key_check, ledger_entry_replayed, money_parse, withdrawal_create
from atmsite.errors import ApplicationError

from .. import errors
from ..errors import KioskError
from ..locks import account_lock, kiosk_lock, session_lock
from ..models import Cassette, Kiosk, KioskSession
from . import cardless
from .notes import notes_for_amount
from .sessions import State, session_get, session_refresh, session_require, session_touch
from .step_up import session_withdraw_step_up

MENU_STATES = (State.VERIFIED, State.IN_MENU)


def _menu_session(*, kiosk: Kiosk, public_id: str | UUID, now: datetime) -> KioskSession:
    """Lock the session, check it is verified and in time, enter the menu and refresh the idle timer."""
    session = session_lock(session_get(kiosk=kiosk, public_id=public_id))
    session_require(session, states=MENU_STATES, now=now)
    if session.state == State.VERIFIED:
        session.state = State.IN_MENU
        session.save(update_fields=["state"])
    session_touch(session, now=now)
    return session


def _active_kiosk(kiosk: Kiosk) -> Kiosk:
    """The kiosk, locked (first, kiosk.locks), if it is in service."""
    # The kiosk row lock serialises every change to this kiosk's cash (cassettes and cash-in bin).
    locked = kiosk_lock(kiosk)
    if locked.status != Kiosk.Status.ACTIVE:
        raise ApplicationError(KioskError.KIOSK_INACTIVE, status_code=403)
    return locked


@dataclass(frozen=True)
class Balance:
    session: KioskSession
    account: BankAccount
    available_today: Decimal


def session_balance(*, kiosk: Kiosk, public_id: str | UUID) -> Balance:
    session_refresh(kiosk=kiosk, public_id=public_id)  # commits passed deadlines first
    with transaction.atomic():
        session = _menu_session(kiosk=kiosk, public_id=public_id, now=timezone.now())
        account = BankAccount.objects.get(pk=session.money_account_id)
        available = max(
            Decimal("0"), account.daily_withdrawal_limit - account_withdrawn_today(account=account)
        )
        if session.is_cardless:
            available = min(available, cardless.cardless_available_today(account=account))
        return Balance(session=session, account=account, available_today=min(available, account.balance))


def session_statement(*, kiosk: Kiosk, public_id: str | UUID) -> tuple[KioskSession, list[Transaction]]:
    session_refresh(kiosk=kiosk, public_id=public_id)
    with transaction.atomic():
        session = _menu_session(kiosk=kiosk, public_id=public_id, now=timezone.now())
        account = BankAccount.objects.get(pk=session.money_account_id)
        return session, list(transactions_recent(account=account, limit=10))


@dataclass(frozen=True)
class Receipt:
    session: KioskSession
    transaction: Transaction
    notes: dict[int, int]
    repeated: bool  # True when the idempotency key had already been used: nothing moved this time


def _whole_amount(raw: str | int | Decimal) -> int:
    amount = money_parse(raw)  # 400 for negative, zero, non-numbers, too many decimals
    if amount != amount.to_integral_value():
        raise ApplicationError(KioskError.AMOUNT_NOT_NOTES, status_code=400)
    return int(amount)


def session_withdraw(
    *, kiosk: Kiosk, public_id: str | UUID, amount: str | int | Decimal, idempotency_key: str
) -> Receipt:
    """Dispense `amount` in notes from this kiosk's cassettes and debit the account, atomically.

    A repeated idempotency key (a double tap, a retried request) returns the first receipt and dispenses
    nothing: the check runs under the kiosk and account locks, before any cassette is touched.
    """
    whole = _whole_amount(amount)
    key = idempotency_key_check(idempotency_key)
    # Passed deadlines are committed in their own transaction, before the kiosk lock (kiosk.locks order).
    session_refresh(kiosk=kiosk, public_id=public_id)
    session_withdraw_step_up(kiosk=kiosk, public_id=public_id, amount=whole)  # a large amount: the code too
    with transaction.atomic(durable=True):
        return _withdraw(kiosk=kiosk, public_id=public_id, whole=whole, key=key)


def _withdraw(*, kiosk: Kiosk, public_id: str | UUID, whole: int, key: str) -> Receipt:
    now = timezone.now()
    locked_kiosk = _active_kiosk(kiosk)
    session = _menu_session(kiosk=kiosk, public_id=public_id, now=now)
    # Then the account: the same lock withdrawal_create takes, held here so the idempotency check and the
    # cassette debit see the committed ledger.
    account = account_lock(session.money_account_id)
    previous = ledger_entry_replayed(account=account, key=key, kind=Transaction.Kind.WITHDRAWAL, amount=whole)
    if previous is not None:
        notes = {int(value): count for value, count in previous.details.get("notes", {}).items()}
        return Receipt(session=session, transaction=previous, notes=notes, repeated=True)
    _account_check(account, kiosk=locked_kiosk, whole=whole)
    cassettes = {c.denomination: c for c in Cassette.objects.filter(kiosk=locked_kiosk)}
    stock = _stock_check(cassettes, whole=whole)
    if session.is_cardless:
        # Under the account lock taken above, so two card-less withdrawals cannot both pass the limit.
        cardless.cardless_limit_check(account=account, amount=Decimal(whole))
    plan = notes_for_amount(amount=whole, available=stock, max_notes=settings.KIOSK_MAX_NOTES)
    if plan is None:
        raise ApplicationError(KioskError.KIOSK_NOTES, status_code=409)
    # withdrawal_create checks funds, the daily limit and the account status; any refusal rolls back the
    # whole transaction, cassette debits included.
    entry = withdrawal_create(
        account=account,
        amount=Decimal(whole),
        idempotency_key=key,
        card=session.card,
        kiosk=locked_kiosk,
        details={
            "notes": {str(value): count for value, count in plan.items()},
            "session": str(session.public_id),
            **({"mode": session.mode} if session.is_cardless else {}),
        },
    )
    for value, count in plan.items():
        cassette = cassettes[value]
        cassette.count -= count
        cassette.save(update_fields=["count"])
    return Receipt(session=session, transaction=entry, notes=plan, repeated=False)


def _account_check(account: BankAccount, *, kiosk: Kiosk, whole: int) -> None:
    """Refuse what the account does not allow: another currency, more than the balance or the daily limit.

    Checked before the kiosk's cash: asking for more than the balance must read "insufficient funds", not a
    note problem the customer cannot fix. withdrawal_create re-checks funds and the limit.
    """
    if account.currency != kiosk.currency:
        raise ApplicationError(
            KioskError.CURRENCY_MISMATCH,
            errors.CURRENCY_DISPENSED_ONLY,
            params={"currency": kiosk.currency},
            status_code=409,
        )
    if whole > account.balance:
        raise ApplicationError(AccountsError.INSUFFICIENT_FUNDS, status_code=409)
    if account_withdrawn_today(account=account) + whole > account.daily_withdrawal_limit:
        raise ApplicationError(AccountsError.DAILY_LIMIT, status_code=409)


def _stock_check(cassettes: dict[int, Cassette], *, whole: int) -> dict[int, int]:
    """The notes in the cassettes, {denomination: count}, if they can cover `whole` at all."""
    stock = {value: c.count for value, c in cassettes.items() if c.count > 0}
    if not stock:
        raise ApplicationError(KioskError.KIOSK_NO_CASH, status_code=409)
    smallest = min(stock)
    if whole % smallest:
        raise ApplicationError(
            KioskError.AMOUNT_NOT_NOTES,
            errors.AMOUNT_NOT_MULTIPLE,
            params={"note": smallest},
            status_code=400,
            extra={"smallest_note": smallest},
        )
    if whole > sum(value * count for value, count in stock.items()):
        raise ApplicationError(KioskError.KIOSK_CASH, status_code=409)
    return stock
