"""The database connection dies in the middle of a withdrawal (PostgreSQL backend terminated while the
transaction holds its locks): no half-written ledger row, the balance and the cassettes are unchanged, the API
says "try again", and the retried request (same idempotency key) dispenses exactly once."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.models import Transaction
from accounts.services import ledger as account_services
from audit.models import AuditEvent
from audit.selectors import chain_verify
from kiosk.models import Cassette
from kiosk.services.credentials import kiosk_credential_rotate
from kiosk.services.operations import session_withdraw
from tests.factories import BankAccountFactory, CardFactory, KioskFactory
from tests.kiosk.factories import KioskSessionFactory
from tests.security.helpers import assert_nothing_written, db_picture

pytestmark = pytest.mark.postgres


@pytest.fixture
def menu_session(postgres):
    account = BankAccountFactory(balance=Decimal("500.00"))
    card = CardFactory(account=account, customer=account.customer)
    kiosk = KioskFactory(cassettes={50: 10, 20: 10, 10: 10})
    session = KioskSessionFactory(kiosk=kiosk, card=card)
    return kiosk, session


@pytest.fixture
def paused_audit(monkeypatch):
    """Stops a withdrawal inside its transaction, after the ledger row and balance are written and every lock
    is held (the audit record is the last step), until the test says go."""
    reached, release = threading.Event(), threading.Event()
    original = account_services.audit_event_record
    backend: dict[str, int] = {}

    def paused(**kwargs):
        backend["pid"] = connection.connection.info.backend_pid
        reached.set()
        release.wait(timeout=30)
        return original(**kwargs)

    monkeypatch.setattr(account_services, "audit_event_record", paused)
    return reached, release, backend, monkeypatch, original


def _kill_mid_withdrawal(paused_audit, run) -> dict:
    reached, release, backend, _monkeypatch, _original = paused_audit
    outcome: dict = {}

    def worker() -> None:
        try:
            outcome["result"] = run()
        except Exception as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    assert reached.wait(timeout=30), "the withdrawal never reached its audit step"
    # The ledger row exists inside the open transaction only; kill that backend from another connection.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend["pid"]])
        assert cursor.fetchone()[0] is True
    release.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return outcome


def test_killed_connection_leaves_no_half_written_withdrawal(menu_session, paused_audit):
    kiosk, session = menu_session
    before = db_picture()
    events_before = AuditEvent.objects.count()
    outcome = _kill_mid_withdrawal(
        paused_audit,
        lambda: session_withdraw(
            kiosk=kiosk, public_id=session.public_id, amount=80, idempotency_key="drop-0001"
        ),
    )
    assert "error" in outcome, outcome
    assert type(outcome["error"]).__name__ in ("OperationalError", "InterfaceError"), repr(outcome["error"])
    assert not Transaction.objects.exists()
    assert_nothing_written(before)  # balance, cassettes, session, every row count
    assert AuditEvent.objects.count() == events_before
    # The kiosk retries with the same key once the database is reachable: money and notes move exactly once.
    _reached, _release, _backend, monkeypatch, original = paused_audit
    monkeypatch.setattr(account_services, "audit_event_record", original)
    receipt = session_withdraw(
        kiosk=kiosk, public_id=session.public_id, amount=80, idempotency_key="drop-0001"
    )
    again = session_withdraw(kiosk=kiosk, public_id=session.public_id, amount=80, idempotency_key="drop-0001")
    assert (receipt.repeated, again.repeated) == (False, True)
    assert Transaction.objects.get().amount == Decimal("80.00")
    session.card.account.refresh_from_db()
    assert session.card.account.balance == Decimal("420.00")
    cash = sum(c.denomination * c.count for c in Cassette.objects.filter(kiosk=kiosk))
    assert cash == 800 - 80
    assert chain_verify().ok


def test_the_api_answers_try_again_when_the_connection_dies(menu_session, paused_audit):
    kiosk, session = menu_session
    _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Kiosk {token}")
    client.raise_request_exception = False
    before = db_picture()
    outcome = _kill_mid_withdrawal(
        paused_audit,
        lambda: client.post(
            f"/api/kiosk/sessions/{session.public_id}/withdrawals/",
            {"amount": "50", "idempotency_key": "drop-api-01"},
            format="json",
        ),
    )
    response = outcome["result"]
    assert response.status_code == 503, response.content[:300]
    assert response.json()["code"] == "database_unavailable"
    assert not Transaction.objects.exists()
    before_counts = {k: v for k, v in before.counts.items() if k != "kiosk.KioskCredential"}
    after = db_picture()
    assert {k: v for k, v in after.counts.items() if k != "kiosk.KioskCredential"} == before_counts
    assert (after.balances, after.cassettes) == (before.balances, before.cassettes)
