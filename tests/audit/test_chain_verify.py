"""The chain catches edits and deletions made behind the ORM's back; the ORM itself cannot change events."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection

from audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from audit.selectors import chain_verify

from .conftest import raw_sql, record, witness_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(db: None) -> list[AuditEvent]:
    return [
        record(
            kind=AuditEvent.Kind.WITHDRAWAL,
            outcome=AuditEvent.Outcome.SUCCESS,
            customer_id=7,
            card_last4="1234",
            data={"amount": f"{i}0.00", "nested": {"ok": True, "list": [1, 2.5, "é"]}},
            personal={"full_name": "Zoë Ülker", "phone": "+447700900001"} if i % 2 else None,
        )
        for i in range(1, 6)
    ]


def _exit_status(capsys) -> tuple[object, str]:
    """Run audit_verify as from the shell; return its exit status and stderr."""
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "audit_verify"])
    return exited.value.code, capsys.readouterr().err


def test_good_chain_verifies(chain, settings, tmp_path):
    status = chain_verify()
    assert status.ok and status.checked == 5 and status.head_seq == 5
    witness_sign()
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "OK: 5 events verified" in out.getvalue()


def test_empty_chain_verifies(db):
    assert chain_verify().ok


def test_verify_streams_in_small_chunks(chain):
    assert chain_verify(chunk_size=2).checked == 5


def test_edited_kind_is_caught_with_exit_status_one(chain, capsys):
    raw_sql("UPDATE audit_auditevent SET kind = %s WHERE seq = %s", [AuditEvent.Kind.DEPOSIT, 3])
    status = chain_verify()
    assert not status.ok and status.broken_seq == 3 and "edited" in status.reason
    code, err = _exit_status(capsys)
    assert code == 1
    assert "BROKEN at #3" in err


def test_edited_data_is_caught(chain):
    edited = json.dumps({"amount": "99999.00", "nested": {"ok": True, "list": [1, 2.5, "é"]}})
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    raw_sql(f"UPDATE audit_auditevent SET data = {cast} WHERE seq = %s", [edited, 2])  # noqa: S608
    status = chain_verify()
    assert (status.ok, status.broken_seq) == (False, 2)
    with pytest.raises(CommandError, match="BROKEN at #2"):
        call_command("audit_verify")


def test_edited_personal_is_caught(chain):
    raw_sql("UPDATE audit_auditevent SET personal_digest = %s WHERE seq = %s", ["x:forged", 1])
    assert (chain_verify().ok, chain_verify().broken_seq) == (False, 1)


def test_deleted_middle_row_is_caught(chain, capsys):
    raw_sql("DELETE FROM audit_auditevent WHERE seq = %s", [2])
    status = chain_verify()
    assert not status.ok and status.broken_seq == 2 and "missing" in status.reason
    code, err = _exit_status(capsys)
    assert code == 1 and "BROKEN at #2" in err


def test_deleted_last_row_is_caught_by_the_head(chain):
    raw_sql("DELETE FROM audit_auditevent WHERE seq = %s", [5])
    status = chain_verify()
    assert not status.ok and status.broken_seq == 5


def test_rehashed_forgery_without_the_key_is_caught_at_the_edited_row(chain):
    from audit.chain import event_hash

    row = AuditEvent.objects.filter(seq=2).values().get()
    row["kind"] = AuditEvent.Kind.DEPOSIT
    forged = event_hash(values=row, prev_hash=row["prev_hash"], secret=b"not the chain key")
    raw_sql("UPDATE audit_auditevent SET kind = %s, hash = %s WHERE seq = 2", [row["kind"], forged])
    status = chain_verify()
    assert not status.ok and status.broken_seq == 2 and "edited" in status.reason


def test_row_appended_without_the_head_is_caught(chain):
    AuditChainHead.objects.filter(id=1).update(seq=4, hash=chain[3].hash)
    status = chain_verify()
    assert not status.ok and status.broken_seq == 5


def test_orm_cannot_update_or_delete_events(chain):
    event = AuditEvent.objects.get(seq=1)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).update(kind=AuditEvent.Kind.DEPOSIT)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        event.delete()
    event.kind = AuditEvent.Kind.DEPOSIT
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(seq=99)])
    assert AuditEvent.objects.get(seq=1).kind == AuditEvent.Kind.WITHDRAWAL
    assert AuditEvent.objects.count() == 5
    assert chain_verify().ok
