"""Audit fixtures: a private media folder per test and a small real JPEG."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, transaction
from PIL import Image

from audit.models import AuditEvent
from audit.services import audit_event_record
from audit.witness import SignResult


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 120, 40)).save(out, format="JPEG")
    return out.getvalue()


def record(**kwargs: object) -> AuditEvent:
    with transaction.atomic():
        return audit_event_record(**{"kind": AuditEvent.Kind.FACE_DECISION, **kwargs})


def raw_sql(sql: str, params: list[object]) -> None:
    """Change the table behind the ORM's back, as someone with database access would."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def failed_attempt(db: None, alice_card, kiosk, jpeg: bytes) -> AuditEvent:
    """A face mismatch at the kiosk, with the camera frame kept as evidence."""
    return record(
        kind=AuditEvent.Kind.FACE_DECISION,
        outcome=AuditEvent.Outcome.FAILURE,
        kiosk_id=kiosk.pk,
        customer_id=alice_card.customer_id,
        card_last4=alice_card.last4,
        data={"outcome": "mismatch", "distance": 0.71},
        snapshot=jpeg,
    )


@pytest.fixture(autouse=True)
def witness_files(settings, tmp_path: Path) -> tuple[Path, Path]:
    """Each test's own checkpoint sink and witness log (the witness's copy, read as a file)."""
    sink, log = tmp_path / "sink" / "audit-checkpoints.jsonl", tmp_path / "witness" / "audit-witness.jsonl"
    settings.AUDIT_CHECKPOINT_SINK, settings.AUDIT_WITNESS_URL = str(sink), str(log)
    return sink, log


def witness_key() -> Ed25519PrivateKey:
    """The development witness key (the portal's settings derive AUDIT_WITNESS_PUBLIC_KEY from it)."""
    from atmsite.settings.environment import VAR_DIR
    from audit.witness import dev_key_text, private_key_parse

    return private_key_parse(dev_key_text(VAR_DIR))


def witness_sign() -> SignResult:
    """What `scripts/audit_witness.py sign` does, reading this test's database through Django's connection
    (the test's transaction is invisible to another connection)."""
    import datetime as dt

    from django.conf import settings

    from audit.sink import sink_parse, sink_write
    from audit.witness import DbChain
    from audit.witness import witness_sign as sign

    sink = sink_parse(settings.AUDIT_CHECKPOINT_SINK)
    return sign(
        chain=DbChain(connection.cursor),
        keys=[witness_key()],
        log=Path(settings.AUDIT_WITNESS_URL),
        now=dt.datetime.now(dt.UTC),
        publish=lambda line: sink_write(sink, line),
    )
