"""Audit fixtures: a private media folder per test and a small real JPEG."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.db import connection, transaction
from PIL import Image

from audit.models import AuditEvent
from audit.services import audit_event_record


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
