"""Issue 20 item 3: with the portal's whole environment (chain key and any signing key it holds) an attacker
rewrote the trail and `audit_verify` said OK. Each finding of the review is one test."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditChainHead, AuditEvent

from .conftest import raw_sql, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(settings, tmp_path: Path) -> Path:
    path = tmp_path / "sink" / "audit-checkpoints.jsonl"
    settings.AUDIT_CHECKPOINT_SINK = str(path)
    return path


def _trail(count: int) -> None:
    for i in range(count):
        record(kind=AuditEvent.Kind.WITHDRAWAL, customer_id=7, data={"amount": f"{i}.00"})


def _witness_sign() -> None:
    call_command("audit_checkpoint", stdout=io.StringIO())


def _verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def _portal_sign(sink: Path, seq: int, hash: str) -> None:
    """What the attacker does with the portal's environment: sign a head with whatever key it holds."""
    from audit.checkpoints import checkpoint_sign, checkpoint_write
    from django.utils import timezone

    checkpoint_write(checkpoint_sign(seq=seq, hash=hash, at=timezone.now()))


def _rechain_from(seq: int) -> None:
    """Edit event `seq` and recompute every later hash and the head with the real chain key."""
    from audit.chain import chain_key_current, event_hash

    key = chain_key_current()
    rows = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq").values())
    prev_hash = rows[0]["prev_hash"]
    for row in rows:
        if row["seq"] == seq:
            row["data"] = {"amount": "99999.00"}
            raw_sql("UPDATE audit_auditevent SET data = %s WHERE seq = %s", [json.dumps(row["data"]), seq])
        row["hash"] = event_hash(values=row, prev_hash=prev_hash, secret=key.secret)
        raw_sql(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s",
            [prev_hash, row["hash"], row["seq"]],
        )
        prev_hash = row["hash"]
    _head_set(rows[-1]["seq"], prev_hash)


def _head_set(seq: int, hash: str) -> None:
    raw_sql(f"UPDATE {AuditChainHead._meta.db_table} SET seq = %s, hash = %s WHERE id = 1", [seq, hash])  # noqa: S608


def _truncate_to(seq: int) -> str:
    last = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).get()
    raw_sql("DELETE FROM audit_auditevent WHERE seq > %s", [seq])
    _head_set(seq, last)
    return last


def test_edit_rechain_and_resign_with_portal_keys_is_detected(sink):
    _trail(150)
    _witness_sign()
    _rechain_from(100)
    head = AuditChainHead.objects.get()
    _portal_sign(sink, head.seq, head.hash)
    with pytest.raises(CommandError):
        _verify()


def test_truncate_and_resign_with_portal_keys_is_detected(sink):
    _trail(150)
    _witness_sign()
    last = _truncate_to(100)
    _portal_sign(sink, 100, last)
    with pytest.raises(CommandError):
        _verify()


def test_deleting_the_newest_checkpoint_line_is_detected(sink):
    _trail(150)
    _witness_sign()
    _trail(10)
    _witness_sign()
    _truncate_to(150)
    lines = sink.read_text().splitlines()
    sink.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(CommandError):
        _verify()


def test_checkpoint_signed_with_portal_keys_is_refused(sink):
    _trail(20)
    head = AuditChainHead.objects.get()
    _portal_sign(sink, head.seq, head.hash)
    with pytest.raises(CommandError):
        _verify()
