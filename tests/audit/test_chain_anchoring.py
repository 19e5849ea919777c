"""A database administrator cannot rewrite the trail silently.

The chain is a keyed HMAC (AUDIT_CHAIN_KEY, outside the database) and its head is signed by the witness
(Ed25519, a key the portal does not hold) into its own log and an append-only sink outside the database.
The forgery — edit event #50 on a copy of the database and recompute every later hash and the head — is tried
here by three attackers: one with plain SHA-256 (the unkeyed scheme the 0004 migration upgrades), one with a
key of their own (the database but not the key), and one holding the real key (caught by the checkpoint, not
by the chain).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.models import AuditEvent

from .conftest import raw_sql, record, witness_sign

pytestmark = pytest.mark.django_db

EDITED_SEQ = 50


@pytest.fixture
def sink(witness_files: tuple[Path, Path]) -> Path:
    return witness_files[0]


@pytest.fixture
def trail(db: None, sink: Path) -> list[AuditEvent]:
    return [
        record(
            kind=AuditEvent.Kind.WITHDRAWAL,
            outcome=AuditEvent.Outcome.SUCCESS,
            customer_id=7,
            card_last4="1234",
            data={"amount": f"{i}.00"},
            personal={"full_name": "Zoë Ülker"} if i % 3 == 0 else None,
        )
        for i in range(1, 81)
    ]


def _verify(*args: str) -> str:
    out = io.StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def _checkpoint() -> str:
    return str(witness_sign().checkpoint)


def _canonical(values: dict[str, Any]) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


# The fields the chain covered before AUDIT_CHAIN_KEY (no key id).
LEGACY_FIELDS = (
    "seq",
    "created_at",
    "kind",
    "outcome",
    "actor_id",
    "actor_username",
    "kiosk_id",
    "customer_id",
    "card_last4",
    "data",
    "personal_digest",
)


def _body(row: dict[str, Any], fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    from audit.chain import CHAINED_FIELDS

    body = {name: row[name] for name in fields or CHAINED_FIELDS}
    body["created_at"] = row["created_at"].isoformat()
    return body


def _plain_sha256(row: dict[str, Any], prev_hash: str) -> str:
    """The chain as it was before AUDIT_CHAIN_KEY: anyone can recompute it."""
    return hashlib.sha256(prev_hash.encode() + _canonical(_body(row, LEGACY_FIELDS))).hexdigest()


def _hmac_with(secret: bytes) -> Callable[[dict[str, Any], str], str]:
    def link(row: dict[str, Any], prev_hash: str) -> str:
        from audit.chain import event_hash

        return event_hash(values=row, prev_hash=prev_hash, secret=secret)

    return link


def _real_key() -> bytes:
    from audit.chain import chain_key_current

    return chain_key_current().secret


@pytest.fixture
def forge_head_table() -> str:
    from audit.models import AuditChainHead

    return AuditChainHead._meta.db_table


def _forge_everything(link: Callable[[dict[str, Any], str], str], head_table: str) -> None:
    rows = list(AuditEvent.objects.filter(seq__gte=EDITED_SEQ).order_by("seq").values())
    prev_hash = rows[0]["prev_hash"]
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    for row in rows:
        if row["seq"] == EDITED_SEQ:
            row["data"] = {"amount": "99999.00"}
            raw_sql(
                f"UPDATE audit_auditevent SET data = {cast} WHERE seq = %s",  # noqa: S608
                [json.dumps(row["data"]), EDITED_SEQ],
            )
        row["hash"] = link(row, prev_hash)
        raw_sql(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s",
            [prev_hash, row["hash"], row["seq"]],
        )
        prev_hash = row["hash"]
    raw_sql(
        f"UPDATE {head_table} SET seq = %s, hash = %s WHERE id = 1",  # noqa: S608
        [rows[-1]["seq"], prev_hash],
    )


@pytest.mark.parametrize(
    "attacker",
    ["plain_sha256", "own_key", "stolen_key"],
)
def test_recomputed_chain_is_caught(trail, forge_head_table, attacker, capsys):
    _checkpoint()
    link = {
        "plain_sha256": _plain_sha256,
        "own_key": _hmac_with(b"a key the attacker made up"),
        "stolen_key": None,
    }[attacker] or _hmac_with(_real_key())
    _forge_everything(link, forge_head_table)
    with pytest.raises(CommandError) as caught:
        _verify()
    message = str(caught.value)
    if attacker == "stolen_key":
        # The real key recomputes a chain that links: only the signed checkpoint outside the database sees it.
        assert "checkpoint #80" in message and "hash" in message
    else:
        assert f"BROKEN at #{EDITED_SEQ}" in message and "edited" in message


def test_checkpoint_mismatch_is_reported(trail, sink, forge_head_table):
    _checkpoint()
    _forge_everything(_hmac_with(_real_key()), forge_head_table)
    from audit.selectors import chain_verify

    assert chain_verify().ok  # the chain alone is fooled by someone holding the key
    from audit.checkpoints import anchor_load

    status = chain_verify(checkpoints=anchor_load().checkpoints)
    assert not status.ok
    assert status.broken_seq == 80
    assert "checkpoint" in status.reason


def test_good_chain_with_checkpoint_verifies(trail, sink):
    assert "#80" in _checkpoint()
    line = json.loads(sink.read_text().splitlines()[-1])
    assert line["seq"] == 80 and line["hash"] == trail[-1].hash
    record(kind=AuditEvent.Kind.DEPOSIT)  # the chain may grow past its latest checkpoint
    out = _verify()
    assert "OK: 81 events verified" in out
    assert "checkpoint #80" in out


def test_checkpoint_is_idempotent(trail, sink, witness_files):
    _checkpoint()
    assert witness_sign().written is False
    assert len(sink.read_text().splitlines()) == 1
    record(kind=AuditEvent.Kind.DEPOSIT)
    assert witness_sign().checkpoint.seq == 81
    assert len(sink.read_text().splitlines()) == 2
    assert witness_files[1].read_text() == sink.read_text()  # the witness's own copy holds the same lines


def test_checkpoint_refuses_to_anchor_a_rewritten_chain(trail, sink, forge_head_table):
    from audit.witness import CheckpointError

    _checkpoint()
    _forge_everything(_hmac_with(_real_key()), forge_head_table)
    record(kind=AuditEvent.Kind.DEPOSIT)
    with pytest.raises(CheckpointError, match="checkpoint #80"):
        _checkpoint()
    assert len(sink.read_text().splitlines()) == 1  # the forgery was not anchored


def test_chain_shorter_than_the_checkpoint_is_reported(trail, sink, forge_head_table):
    _checkpoint()
    last = AuditEvent.objects.filter(seq=79).values_list("hash", flat=True).get()
    raw_sql("DELETE FROM audit_auditevent WHERE seq = %s", [80])
    raw_sql(f"UPDATE {forge_head_table} SET seq = 79, hash = %s WHERE id = 1", [last])  # noqa: S608
    with pytest.raises(CommandError, match=r"shorter than the witness.s checkpoint"):
        _verify()


def test_forged_checkpoint_signature_is_reported(trail, sink):
    _checkpoint()
    line = json.loads(sink.read_text().splitlines()[-1])
    forger = Ed25519PrivateKey.generate()
    line["signature"] = base64.b64encode(forger.sign(b"anything")).decode()
    with sink.open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    with pytest.raises(CommandError, match="signature"):
        _verify()


def test_missing_checkpoint_is_reported_unless_chain_only(trail, sink):
    with pytest.raises(CommandError, match="signed no checkpoint"):
        _verify()
    assert "anchor NOT checked" in _verify("--chain-only")


def test_rotated_chain_key_still_verifies_old_events(trail, sink, settings):
    from audit.chain import chain_key_id

    old_keys = list(settings.AUDIT_CHAIN_KEY)
    settings.AUDIT_CHAIN_KEY = ["a-brand-new-audit-chain-key", *old_keys]
    newest = record(kind=AuditEvent.Kind.DEPOSIT)
    assert newest.chain_key_id == chain_key_id("a-brand-new-audit-chain-key")
    assert newest.chain_key_id != trail[0].chain_key_id
    _checkpoint()
    assert "OK: 81 events verified" in _verify()
    # Dropping the retired key makes the old events unverifiable, and says why.
    settings.AUDIT_CHAIN_KEY = ["a-brand-new-audit-chain-key"]
    with pytest.raises(CommandError, match="not listed in AUDIT_CHAIN_KEY"):
        _verify()


def _legacy_chain(head_table: str) -> None:
    """Turn the trail into what an earlier `make run` left: plain SHA-256 links and no key id."""
    prev_hash = "0" * 64
    for row in AuditEvent.objects.order_by("seq").values():
        digest = _plain_sha256(row, prev_hash)
        raw_sql(
            "UPDATE audit_auditevent SET chain_key_id = '', prev_hash = %s, hash = %s WHERE seq = %s",
            [prev_hash, digest, row["seq"]],
        )
        prev_hash = digest
    raw_sql(f"UPDATE {head_table} SET hash = %s WHERE id = 1", [prev_hash])  # noqa: S608


def _upgrade() -> None:
    import importlib

    from django.apps import apps

    importlib.import_module("audit.migrations.0004_keyed_chain").legacy_events_rechain(apps, None)


def test_legacy_sha256_chain_is_rechained_by_the_upgrade(trail, forge_head_table):
    """Events from before the keyed chain (a development database from an earlier `make run`)."""
    from audit.selectors import chain_verify

    _legacy_chain(forge_head_table)
    status = chain_verify()
    assert not status.ok and status.broken_seq == 1 and "AUDIT_CHAIN_KEY" in status.reason
    _upgrade()
    assert chain_verify().ok


def test_broken_legacy_chain_is_left_as_evidence(trail, forge_head_table):
    from audit.selectors import chain_verify

    _legacy_chain(forge_head_table)
    raw_sql("UPDATE audit_auditevent SET kind = %s WHERE seq = %s", [AuditEvent.Kind.DEPOSIT, 30])
    before = list(AuditEvent.objects.order_by("seq").values_list("hash", flat=True))
    _upgrade()
    assert list(AuditEvent.objects.order_by("seq").values_list("hash", flat=True)) == before
    status = chain_verify()
    assert not status.ok and "not chained with AUDIT_CHAIN_KEY" in status.reason


def test_checkpoints_can_go_to_syslog(trail, settings, tmp_path):
    address = str(tmp_path / "syslog.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(address)
    server.settimeout(5)
    try:
        settings.AUDIT_CHECKPOINT_SINK = f"syslog://{address}"
        _checkpoint()
        message = server.recv(65536).decode().rstrip("\x00\n")
    finally:
        server.close()
    checkpoint = json.loads(message[message.index("{") :])
    assert checkpoint["seq"] == 80 and checkpoint["hash"] == trail[-1].hash
    # The sink cannot be read back: audit_verify takes an export of those lines.
    export = tmp_path / "export.log"
    export.write_text(f"Nov 29 09:00:00 atm {message}\n")
    assert "checkpoint #80" in _verify("--checkpoints", str(export))
    assert "checkpoint #80" in _verify()  # the witness's own copy alone
    export.write_text("")  # an export missing the witness's newest line
    with pytest.raises(CommandError, match="sink holds none of the witness's 1 checkpoints"):
        _verify("--checkpoints", str(export))


def test_checkpoint_signature_needs_only_the_public_key(trail, sink, capsys, settings):
    """An outside verifier checks a line with the public key alone (Ed25519)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from atmsite.settings.environment import VAR_DIR
    from audit.witness_cli import main

    _checkpoint()
    main(["public-key"], environ={"ATM_VAR_DIR": str(VAR_DIR)})
    printed = capsys.readouterr().out.strip().split("=", 1)[1]
    assert [printed] == settings.AUDIT_WITNESS_PUBLIC_KEY  # what the portal holds: the public half only
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(printed))
    line = json.loads(sink.read_text().splitlines()[-1])
    message = b"atm-audit-checkpoint/v2\n" + _canonical({k: line[k] for k in ("seq", "hash", "at", "prev")})
    public.verify(base64.b64decode(line["signature"]), message)  # raises if the line was altered


def test_chain_hash_is_an_hmac_of_the_key(trail):
    row = AuditEvent.objects.filter(seq=1).values().get()
    expected = hmac.new(_real_key(), row["prev_hash"].encode() + _canonical(_body(row)), "sha256").hexdigest()
    assert row["hash"] == expected
