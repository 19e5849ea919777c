"""200 withdrawals at once from several OS processes (each its own Django, its own connections) on one account
at one kiosk, through the kiosk withdrawal service, on PostgreSQL: the balance never goes negative, the ledger
explains the balance, every idempotency key moves money once (duplicates are sent on purpose), and the cash
that left the cassettes is exactly the money withdrawn."""

from __future__ import annotations

import multiprocessing
import queue
import random
import uuid
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import BankAccount, Transaction
from audit.models import AuditEvent
from audit.selectors import chain_verify
from kiosk.models import Cassette
from tests.factories import BankAccountFactory, CardFactory, KioskFactory
from tests.kiosk.factories import KioskSessionFactory

from . import workers

pytestmark = pytest.mark.postgres

PROCESSES = 4
THREADS_PER_PROCESS = 4
REQUESTS = 200
DUPLICATES = (
    50  # of the 200, this many reuse an earlier key (same amount): a retried or double-tapped request
)
OPENING_BALANCE = Decimal("2000.00")
CASSETTES = {50: 30, 20: 50, 10: 60}  # 3100 in the kiosk: the account (2000) runs dry first


def _requests() -> list[tuple[int, str]]:
    rng = random.Random(20261121)
    unique = [
        (rng.choice([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]), f"proc-{index:04d}-{uuid.uuid4().hex[:8]}")
        for index in range(REQUESTS - DUPLICATES)
    ]
    duplicates = [rng.choice(unique) for _ in range(DUPLICATES)]
    batch = unique + duplicates
    rng.shuffle(batch)
    return batch


def test_two_hundred_withdrawals_from_four_processes(postgres):
    account = BankAccountFactory(balance=OPENING_BALANCE, daily_withdrawal_limit=Decimal("100000.00"))
    card = CardFactory(account=account, customer=account.customer)
    kiosk = KioskFactory(cassettes=CASSETTES)
    session = KioskSessionFactory(kiosk=kiosk, card=card)
    batch = _requests()
    outcomes = _withdraw_from_processes(kiosk=kiosk, session=session, batch=batch)

    codes = Counter(outcome[3] for outcome in outcomes)
    assert not [code for code in codes if code.startswith("crash")], codes
    assert set(codes) <= {"ok", "kiosk_cash", "kiosk_notes", "kiosk_no_cash", "insufficient_funds"}, codes
    assert len({outcome[0] for outcome in outcomes}) == PROCESSES  # really several processes

    ledger = list(Transaction.objects.filter(account=account).order_by("id"))
    account.refresh_from_db()
    withdrawn = _assert_ledger_explains_balance(account, ledger)
    repeats = _assert_each_key_moved_money_once(ledger, outcomes)
    remaining = _assert_cash_out_is_what_was_withdrawn(kiosk, ledger, withdrawn)
    # One audit event per ledger row, and the chain is intact after the storm.
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.WITHDRAWAL).count() == len(ledger)
    assert chain_verify().ok
    print(
        f"processes={PROCESSES} threads={PROCESSES * THREADS_PER_PROCESS} requests={REQUESTS} "
        f"ledger_rows={len(ledger)} withdrawn={withdrawn} repeats={repeats} outcomes={dict(codes)} "
        f"balance={account.balance} cash_left={sum(v * c for v, c in remaining.items())}"
    )
    assert BankAccount.objects.get(pk=account.pk).balance == account.balance


def _withdraw_from_processes(*, kiosk, session, batch: list[tuple[int, str]]) -> list[tuple]:
    """Send the batch from PROCESSES spawned processes of THREADS_PER_PROCESS threads, all started together;
    returns every answer (pid, key, amount, code, transaction id, repeated)."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES * THREADS_PER_PROCESS)
    results = context.Queue()
    database_name = connection.settings_dict["NAME"]
    processes = [
        context.Process(
            target=workers.withdraw_batch,
            args=(
                database_name,
                kiosk.pk,
                str(session.public_id),
                batch[index::PROCESSES],
                THREADS_PER_PROCESS,
                start,
                results,
            ),
        )
        for index in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes: list[tuple] = []
    try:
        while len(outcomes) < REQUESTS:
            outcomes.append(results.get(timeout=120))
    except queue.Empty:
        pytest.fail(f"only {len(outcomes)} of {REQUESTS} withdrawals answered")
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return outcomes


def _assert_ledger_explains_balance(account: BankAccount, ledger: list[Transaction]) -> Decimal:
    """Never negative, and the ledger explains the balance, row by row; returns the amount withdrawn."""
    withdrawn = sum((entry.amount for entry in ledger), Decimal("0"))
    assert account.balance >= 0
    assert account.balance == OPENING_BALANCE - withdrawn
    running = OPENING_BALANCE
    for entry in ledger:
        running -= entry.amount
        assert entry.balance_after == running
    return withdrawn


def _assert_each_key_moved_money_once(ledger: list[Transaction], outcomes: list[tuple]) -> int:
    """Each key moved money at most once, and every answer for a key names the same ledger row; returns how
    many answers were repeats served from the ledger (at least one: the duplicates really raced)."""
    assert len({entry.idempotency_key for entry in ledger}) == len(ledger)
    rows_by_key = defaultdict(set)
    for _pid, key, _amount, code, transaction_id, _repeated in outcomes:
        if code == "ok":
            rows_by_key[key].add(transaction_id)
    assert all(len(rows) == 1 for rows in rows_by_key.values())
    assert {next(iter(rows)) for rows in rows_by_key.values()} == {entry.pk for entry in ledger}
    repeats = sum(1 for outcome in outcomes if outcome[3] == "ok" and outcome[5])
    assert repeats >= 1
    return repeats


def _assert_cash_out_is_what_was_withdrawn(kiosk, ledger: list[Transaction], withdrawn: Decimal) -> dict:
    """What left the cassettes is exactly what was withdrawn, note by note; returns the notes left."""
    remaining = dict(Cassette.objects.filter(kiosk=kiosk).values_list("denomination", "count"))
    assert all(count >= 0 for count in remaining.values())
    cash_out = sum(value * (CASSETTES[value] - remaining[value]) for value in CASSETTES)
    assert Decimal(cash_out) == withdrawn
    notes: Counter[int] = Counter()
    for entry in ledger:
        notes.update({int(value): count for value, count in entry.details["notes"].items()})
    assert {value: CASSETTES[value] - remaining[value] for value in CASSETTES} == {
        v: notes[v] for v in CASSETTES
    }
    return remaining
