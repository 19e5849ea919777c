"""Hostile payloads and a before/after picture of everything the bank stores."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Model
from PIL import Image

OUR_APPS = ("accounts", "kiosk", "audit", "biometrics")


@dataclass(frozen=True)
class DbPicture:
    """Row counts of every model of our apps, plus the values money and cash live in."""

    counts: dict[str, int]
    balances: dict[int, str]
    cassettes: dict[tuple[int, int], int]
    cards: dict[int, str]
    sessions: dict[str, tuple[Any, ...]]
    otp_codes: dict[int, tuple[Any, ...]]

    def changes(self, other: DbPicture) -> dict[str, tuple[Any, Any]]:
        """What differs between two pictures (empty when nothing was written)."""
        diff: dict[str, tuple[Any, Any]] = {}
        for name in ("counts", "balances", "cassettes", "cards", "sessions", "otp_codes"):
            before, after = getattr(self, name), getattr(other, name)
            for key in set(before) | set(after):
                if before.get(key) != after.get(key):
                    diff[f"{name}[{key}]"] = (before.get(key), after.get(key))
        return diff


def _our_models() -> Iterator[type[Model]]:
    for label in OUR_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        yield from config.get_models()


def db_picture() -> DbPicture:
    counts = {model._meta.label: model._default_manager.count() for model in _our_models()}
    from accounts.models import BankAccount, Card
    from kiosk.models import Cassette, KioskSession, OtpCode

    return DbPicture(
        counts=counts,
        balances={pk: str(balance) for pk, balance in BankAccount.objects.values_list("pk", "balance")},
        cassettes={
            (kiosk_id, value): count
            for kiosk_id, value, count in Cassette.objects.values_list("kiosk_id", "denomination", "count")
        },
        cards=dict(Card.objects.values_list("pk", "status")),
        sessions={
            str(row[0]): tuple(row[1:])
            for row in KioskSession.objects.values_list(
                "public_id", "state", "frame_seq", "frames_seen", "match_streak", "last_frame_sha256"
            )
        },
        otp_codes={
            row[0]: tuple(row[1:])
            for row in OtpCode.objects.values_list("pk", "failed_attempts", "used_at", "voided_at")
        },
    )


def assert_nothing_written(before: DbPicture) -> None:
    changes = before.changes(db_picture())
    assert not changes, f"a refused request wrote to the database: {changes}"


# Columns a refused request may legitimately touch: authenticating a kiosk stamps its credential.
VOLATILE_COLUMNS = {"kiosk.KioskCredential": {"last_used_at"}}


def db_contents() -> dict[str, dict[Any, tuple[Any, ...]]]:
    """Every row and column of every model of our apps: stricter than db_picture, for small test databases."""
    contents: dict[str, dict[Any, tuple[Any, ...]]] = {}
    for model in _our_models():
        skip = VOLATILE_COLUMNS.get(model._meta.label, set())
        columns = [field.attname for field in model._meta.concrete_fields if field.attname not in skip]
        contents[model._meta.label] = {
            row[0]: tuple(str(value) for value in row) for row in model._default_manager.values_list(*columns)
        }
    return contents


def assert_contents_unchanged(before: dict[str, dict[Any, tuple[Any, ...]]]) -> None:
    after = db_contents()
    changed = {
        label: sorted(
            str(key) for key in set(rows) | set(after[label]) if rows.get(key) != after[label].get(key)
        )
        for label, rows in before.items()
        if rows != after[label]
    }
    assert not changed, f"a refused request wrote to the database (rows changed): {changed}"


# --- Hostile images ------------------------------------------------------------------------------------


def _image_bytes(fmt: str, size: tuple[int, int] = (64, 48), seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    pixels = Image.new("RGB", size, (seed % 256, (seed * 7) % 256, 90))
    pixels.save(buffer, format=fmt)
    return buffer.getvalue()


def good_jpeg(seed: int = 0) -> bytes:
    return _image_bytes("JPEG", seed=seed)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG whose header claims width × height pixels (900 megapixels by default)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # A few compressed rows of zeros: enough to look real, far from the claimed size.
    idat = zlib.compress(b"\x00" * (width * 3 + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def corrupt_png() -> bytes:
    data = bytearray(_image_bytes("PNG"))
    # Flip bytes inside the IDAT stream: the header still parses, the pixels do not.
    middle = len(data) // 2
    data[middle : middle + 16] = b"\x00" * 16
    return bytes(data)


HOSTILE_IMAGES: dict[str, bytes] = {
    "text": b"hello, this is not an image",
    "html": b"<html><script>alert(1)</script></html>",
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    "zip": b"PK\x03\x04" + b"\x00" * 60,
    "jpeg_magic_only": b"\xff\xd8\xff\xe0",
    "truncated_jpeg": good_jpeg(1)[:200],
    "jpeg_without_end": good_jpeg(2)[:-40],
    "corrupt_png": corrupt_png(),
    "truncated_png": _image_bytes("PNG")[:60],
    "png_bomb_30000": png_bomb(),
    "gif": _image_bytes("GIF"),
    "bmp": _image_bytes("BMP"),
    "nul_bytes": b"\x00" * 4096,
}

INJECTION_STRINGS = [
    "' OR '1'='1",
    "'; DROP TABLE accounts_customer; --",
    '" OR ""="',
    "1; SELECT pg_sleep(5)--",
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "%00%27",
    "\x00",
    "../../../../etc/passwd",
    "{{7*7}}{% debug %}",
    "ʼ OR 1=1 --",
    "A" * 5000,
]


SESSION_ENDPOINTS = [
    ("get", ""),
    ("post", "frames/"),
    ("post", "otp/"),
    ("post", "otp/verify/"),
    ("get", "balance/"),
    ("post", "withdrawals/"),
    ("post", "deposits/"),
    ("post", "cash-in/"),
    ("post", "deposits/open/"),
    ("get", "deposits/escrow/"),
    ("post", "simulated-cash-in/"),
    ("post", "deposits/cancel/"),
    ("get", "statement/"),
    ("post", "end/"),
]
SESSION_BODIES = {
    "frames/": None,  # multipart, built per test
    "otp/verify/": {"code": "123456"},
    "withdrawals/": {"amount": "20", "idempotency_key": "hostile-key-0001"},
    "deposits/": {"idempotency_key": "hostile-key-0002"},
    "cash-in/": {"notes": {"20": 1}, "idempotency_key": "hostile-key-0003"},
    "simulated-cash-in/": {"notes": {"20": 1}, "idempotency_key": "hostile-key-0004"},
}


def refused(response: Any, *statuses: int) -> dict:
    """A clear refusal: a 4xx in the {"code", "detail"} shape (never a 500, never an HTML error page)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if statuses:
        assert response.status_code in statuses, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] and body["detail"], body
    return body


def session_call(client: Any, method: str, url: str, action: str, **extra: Any) -> Any:
    """Call one session endpoint (SESSION_ENDPOINTS) with a plausible body, to see who may reach it."""
    from tests.kiosk.conftest import jpeg_frame

    if method == "get":
        return client.get(url, **extra)
    if action == "frames/":
        payload = {"frame": io.BytesIO(jpeg_frame()), "nonce": "x", "seq": 1}
        payload["frame"].name = "f.jpg"
        return client.post(url, payload, format="multipart", **extra)
    return client.post(url, SESSION_BODIES.get(action) or {}, format="json", **extra)
