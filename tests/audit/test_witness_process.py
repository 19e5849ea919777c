"""The witness runs as its own process, with its own environment: no Django, no portal secret, read-only
database access; the portal reads its copy over HTTP."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from audit.witness import GENESIS, checkpoints_read, new_seed_text, private_key_parse, public_key_text
from tests.support.environment import REPO


def _chain_file(path: Path, events: int) -> None:
    """The two audit tables as the witness reads them (only the columns it selects)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE audit_auditevent (seq INTEGER, prev_hash TEXT, hash TEXT)")
        db.execute("CREATE TABLE audit_auditchainhead (id INTEGER, seq INTEGER, hash TEXT)")
        prev = GENESIS
        for seq in range(1, events + 1):
            digest = f"{seq:064x}"
            db.execute("INSERT INTO audit_auditevent VALUES (?, ?, ?)", (seq, prev, digest))
            prev = digest
        db.execute("INSERT INTO audit_auditchainhead VALUES (1, ?, ?)", (events, prev))


def _witness(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/audit_witness.py", *args],
        cwd=REPO,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_witness_signs_with_its_own_environment_only(tmp_path):
    database = tmp_path / "atm.sqlite3"
    _chain_file(database, 3)
    seed = new_seed_text()
    env = {
        "DEBUG": "false",  # production rules: no development default
        "AUDIT_WITNESS_KEY": seed,
        "AUDIT_WITNESS_LOG": str(tmp_path / "witness.jsonl"),
        "AUDIT_WITNESS_DATABASE_URL": f"sqlite:///{database}",
        "AUDIT_CHECKPOINT_SINK": str(tmp_path / "sink.jsonl"),
    }
    before = database.read_bytes()
    result = _witness("sign", env=env)
    assert result.returncode == 0, result.stderr
    assert "signed checkpoint #3" in result.stdout
    [checkpoint] = checkpoints_read(tmp_path / "witness.jsonl")
    assert checkpoint.seq == 3 and checkpoint.hash == f"{3:064x}"
    assert (tmp_path / "sink.jsonl").read_text() == (tmp_path / "witness.jsonl").read_text()
    assert database.read_bytes() == before  # read-only
    printed = _witness("public-key", env=env).stdout.strip()
    assert printed == f"AUDIT_WITNESS_PUBLIC_KEY={public_key_text(private_key_parse(seed).public_key())}"


def test_witness_refuses_a_shortened_chain_and_says_so(tmp_path):
    database = tmp_path / "atm.sqlite3"
    _chain_file(database, 5)
    env = {
        "DEBUG": "false",
        "AUDIT_WITNESS_KEY": new_seed_text(),
        "AUDIT_WITNESS_LOG": str(tmp_path / "witness.jsonl"),
        "AUDIT_WITNESS_DATABASE_URL": f"sqlite:///{database}",
    }
    assert _witness("sign", env=env).returncode == 0
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM audit_auditevent WHERE seq > 3")
        db.execute("UPDATE audit_auditchainhead SET seq = 3, hash = ?", (f"{3:064x}",))
    result = _witness("sign", env=env)
    assert result.returncode == 1
    assert "NOT SIGNED" in result.stderr and "cut off" in result.stderr
    assert len(checkpoints_read(tmp_path / "witness.jsonl")) == 1


def test_witness_refuses_to_start_in_production_without_its_key(tmp_path):
    result = _witness("sign", env={"DEBUG": "false", "AUDIT_WITNESS_LOG": str(tmp_path / "w.jsonl")})
    assert result.returncode == 2
    assert "AUDIT_WITNESS_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_portal_reads_the_witness_copy_over_http(tmp_path):
    import datetime as dt

    from audit.checkpoints import witness_copy
    from audit.witness import Checkpoint, checkpoint_sign
    from audit.witness_cli import _handler

    key = private_key_parse(base64.b64encode(os.urandom(32)).decode())
    log = tmp_path / "witness.jsonl"
    first: Checkpoint = checkpoint_sign(
        key=key, seq=4, hash="a" * 64, at=dt.datetime.now(dt.UTC), previous=None
    )
    log.write_text(first.line() + "\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(log))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert witness_copy(f"http://127.0.0.1:{server.server_port}") == [first]
    finally:
        server.shutdown()
        server.server_close()
