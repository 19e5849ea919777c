"""Issue 20 item 3: with the portal's whole environment (chain key and any signing key it holds) an attacker
rewrote the trail and `audit_verify` said OK. Each finding of the review is one test."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.models import AuditChainHead, AuditEvent
from audit.witness import CheckpointError, checkpoint_sign, checkpoints_read, private_key_parse

from .conftest import raw_sql, record, witness_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(witness_files: tuple[Path, Path]) -> Path:
    return witness_files[0]


def _trail(count: int) -> None:
    for i in range(count):
        record(kind=AuditEvent.Kind.WITHDRAWAL, customer_id=7, data={"amount": f"{i}.00"})


def _verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def _portal_secrets() -> list[str]:
    """Every key the portal's environment holds (any setting named *KEY*, including AUDIT_CHAIN_KEY)."""
    values: list[str] = []
    for name in dir(settings):
        if not name.isupper() or "KEY" not in name or name == "AUDIT_WITNESS_PUBLIC_KEY":
            continue
        value = getattr(settings, name)
        if value:
            values += [value] if isinstance(value, str) else [v for v in value or () if isinstance(v, str)]
    return values


def _portal_sign(sink: Path, seq: int, hash: str) -> None:
    """What the attacker does with the portal's environment: sign the head with each key it holds (as an
    Ed25519 seed, hashed to 32 bytes when it is not one) and append a line linked to the sink's last line."""
    previous = checkpoints_read(sink)[-1] if checkpoints_read(sink) else None
    sink.parent.mkdir(parents=True, exist_ok=True)
    for value in _portal_secrets():
        try:
            key = private_key_parse(value)
        except CheckpointError:
            key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(value.encode()).digest())
        forged = checkpoint_sign(key=key, seq=seq, hash=hash, at=timezone.now(), previous=previous)
        with sink.open("a") as handle:
            handle.write(forged.line() + "\n")


def _witness_sign() -> None:
    assert witness_sign().written


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
    with pytest.raises(CommandError, match="not the witness's"):
        _verify()
    sink.write_text("\n".join(sink.read_text().splitlines()[:1]) + "\n")  # even without the forged lines
    with pytest.raises(CommandError, match=r"#150 .*signed another hash"):
        _verify()


def test_truncate_and_resign_with_portal_keys_is_detected(sink):
    _trail(150)
    _witness_sign()
    last = _truncate_to(100)
    _portal_sign(sink, 100, last)
    with pytest.raises(CommandError, match="not the witness's"):
        _verify()
    sink.write_text("\n".join(sink.read_text().splitlines()[:1]) + "\n")
    with pytest.raises(CommandError, match="shorter than the witness's checkpoint #150"):
        _verify()


def test_deleting_the_newest_checkpoint_line_is_detected(sink):
    _trail(150)
    _witness_sign()
    _trail(10)
    _witness_sign()
    _truncate_to(150)
    lines = sink.read_text().splitlines()
    sink.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(CommandError, match=r"newest checkpoint #160 .* is missing from the sink"):
        _verify()


def test_checkpoint_signed_with_portal_keys_is_refused(sink):
    _trail(20)
    head = AuditChainHead.objects.get()
    _portal_sign(sink, head.seq, head.hash)
    with pytest.raises(CommandError, match="which is not the witness's"):
        _verify()


def test_older_checkpoints_contradicting_a_rewrite_are_compared(sink):
    _trail(120)
    _witness_sign()
    _trail(30)
    _witness_sign()
    _rechain_from(100)
    with pytest.raises(CommandError, match=r"checkpoint #120 .*signed another hash"):
        _verify()


def test_deleting_a_checkpoint_line_in_the_middle_is_detected(sink):
    for _ in range(3):
        _trail(5)
        _witness_sign()
    lines = sink.read_text().splitlines()
    sink.write_text(lines[0] + "\n" + lines[2] + "\n")
    with pytest.raises(CommandError, match=r"does not follow checkpoint #5 .*deleted or inserted"):
        _verify()


@pytest.mark.parametrize("attack", ["rewrite", "truncate"])
def test_witness_refuses_to_sign_a_rewritten_or_shortened_chain(sink, witness_files, attack):
    _trail(150)
    _witness_sign()
    if attack == "rewrite":
        _rechain_from(100)
        record(kind=AuditEvent.Kind.DEPOSIT)
    else:
        _truncate_to(100)
    before = witness_files[1].read_text()
    with pytest.raises(CheckpointError, match=r"refusing to sign: .*(rewritten|cut off)"):
        witness_sign()
    assert witness_files[1].read_text() == before and len(sink.read_text().splitlines()) == 1


def test_good_chain_anchored_by_the_witness_verifies(sink):
    _trail(5)
    _witness_sign()
    assert not witness_sign().written  # idempotent
    _trail(3)  # the chain may grow past its newest checkpoint
    assert "OK: 8 events verified, head at #8; matches the witness's checkpoint #5" in _verify()
