"""Kiosk fixtures: a provisioned kiosk, an API client carrying its credential, and a scripted face engine."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image
from rest_framework.test import APIClient

from biometrics.verdicts import FaceOutcome, FrameVerdict
from kiosk.services import face
from kiosk.services.card_reads import CardRead
from kiosk.services.credentials import kiosk_credential_rotate
from notifications.senders import TestSender

_counter = itertools.count(1)


def jpeg_frame(width: int = 64, height: int = 48) -> bytes:
    """A small, always different JPEG (the server refuses a repeated identical frame as a replay)."""
    value = next(_counter)
    pixels = np.full((height, width, 3), value % 251, dtype=np.uint8)
    pixels[0, 0] = [value % 256, (value // 256) % 256, 7]
    pixels[height // 2 :, :, 1] = (value * 37) % 256
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


FACE_BOX = {"top": 10, "right": 40, "bottom": 40, "left": 10}


def scripted_verdict(outcome: str, **fields: Any) -> FrameVerdict:
    """The engine's real answer type for `outcome`: a box per face, distance 0.3, 90 % for a match and 20 %
    for another face; a mismatch names customer 999. `fields` override any of it."""
    face_outcome = FaceOutcome(outcome)
    faces = {FaceOutcome.SEVERAL_FACES: 2, FaceOutcome.NO_FACE: 0}.get(face_outcome, 1)
    percent = {FaceOutcome.MATCH: 90, FaceOutcome.NO_MATCH: 20, FaceOutcome.MISMATCH: 20}.get(face_outcome)
    defaults: dict[str, Any] = {
        "boxes": [dict(FACE_BOX) for _ in range(faces)],
        "distance": 0.3,
        "match_percent": percent,
        "landmarks": None,
        "other_customer_id": 999 if face_outcome == FaceOutcome.MISMATCH else None,
        "problem": None,
    }
    return FrameVerdict(face_outcome, **{**defaults, **fields})


class FaceScript:
    """What the fake engine answers, frame after frame (the last outcome repeats)."""

    def __init__(self) -> None:
        self.outcomes: list[str] = ["match"]
        self.calls = 0
        self.enrolled = True

    def play(self, *outcomes: str) -> None:
        self.outcomes = list(outcomes)

    def verify(self, *, customer_id: int, image: np.ndarray) -> FrameVerdict:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        # Like the engine, a match names the customer it matched.
        return scripted_verdict(outcome, customer_id=customer_id if outcome == FaceOutcome.MATCH else None)


@pytest.fixture
def face_script(monkeypatch: pytest.MonkeyPatch) -> FaceScript:
    script = FaceScript()
    monkeypatch.setattr(face, "frame_verify", script.verify)
    monkeypatch.setattr(face, "customer_has_active_templates", lambda *, customer_id: script.enrolled)
    return script


@pytest.fixture
def outbox() -> Iterator[list]:
    TestSender.outbox.clear()
    yield TestSender.outbox
    TestSender.outbox.clear()


@pytest.fixture
def kiosk_token(kiosk: object) -> str:
    _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=None)
    return token


@pytest.fixture
def api(kiosk_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Kiosk {kiosk_token}")
    return client


def card_expiry_of(pan: str) -> str:
    """The expiry printed on the card with this PAN, as MM/YY (a fixed date for an unknown number)."""
    from accounts.models import Card
    from accounts.pan import pan_hash, pan_normalise

    card = Card.objects.filter(pan_hmac=pan_hash(pan_normalise(pan))).first()
    return card.expires_on.strftime("%m/%y") if card is not None else "12/30"


def card_read_of(pan: str) -> CardRead:
    """What a card reader delivers for the card with this PAN (its own expiry), for calling the services."""
    month, year = card_expiry_of(pan).split("/")
    return CardRead(pan=pan, expiry_year=2000 + int(year), expiry_month=int(month))


class KioskDriver:
    """Drives the kiosk API as the page does."""

    def __init__(self, client: APIClient) -> None:
        self.client = client
        self.session: dict = {}

    @property
    def sid(self) -> str:
        return self.session["id"]

    def start(self, pan: str, expiry: str | None = None):
        """Present a card as the card reader does: PAN + expiry (MM/YY; the card's own expiry by default)."""
        expiry = card_expiry_of(pan) if expiry is None else expiry
        response = self.client.post(
            "/api/kiosk/sessions/", {"card_number": pan, "expiry": expiry}, format="json"
        )
        if response.status_code == 201:
            self.session = response.json()
        return response

    def frame(self, data: bytes | None = None, *, seq: int | None = None, nonce: str | None = None):
        payload = {
            "frame": io.BytesIO(data if data is not None else jpeg_frame()),
            "nonce": nonce if nonce is not None else self.session["frame_nonce"],
            "seq": seq if seq is not None else self.session["next_seq"],
        }
        payload["frame"].name = "frame.jpg"
        response = self.client.post(f"/api/kiosk/sessions/{self.sid}/frames/", payload, format="multipart")
        if response.status_code == 200:
            self.session = response.json()["session"]
        return response

    def status(self):
        response = self.client.get(f"/api/kiosk/sessions/{self.sid}/")
        if response.status_code == 200:
            self.session = response.json()
        return response

    def verify_face(self, frames: int = 3) -> None:
        for _ in range(frames):
            assert self.frame().status_code == 200
        assert self.session["state"] == "verified", self.session

    def post(self, action: str, data: dict | None = None):
        return self.client.post(f"/api/kiosk/sessions/{self.sid}/{action}/", data or {}, format="json")

    def get(self, action: str):
        return self.client.get(f"/api/kiosk/sessions/{self.sid}/{action}/")


@pytest.fixture
def driver(api: APIClient, face_script: FaceScript, outbox: list) -> KioskDriver:
    return KioskDriver(api)


def second_kiosk_driver() -> KioskDriver:
    """A driver for another kiosk of the same bank (rules that count distinct kiosks)."""
    from kiosk.services.credentials import kiosk_credential_rotate
    from tests.factories import KioskFactory

    _credential, token = kiosk_credential_rotate(kiosk=KioskFactory(name="Second kiosk"), actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Kiosk {token}")
    return KioskDriver(client)


class CashInModule:
    """The kiosk's cash-in module: its own credential, signed count reports (kiosk.services.cash_devices)."""

    def __init__(self, kiosk: Any) -> None:
        from kiosk.services.cash_devices import cash_in_device_provision

        self.device, self.key = cash_in_device_provision(kiosk=kiosk, actor=None)
        self.client = APIClient()
        self.counter = 0

    def body(self, notes: object, key: str, *, session: str | None = None, **fields: Any) -> bytes:
        import json
        import time

        self.counter += 1
        report: dict[str, Any] = {"counter": self.counter, "timestamp": int(time.time()), "notes": notes}
        report.update({"idempotency_key": key, **({"session": session} if session else {}), **fields})
        return json.dumps(report).encode()

    def send(self, body: bytes, *, signature: str | None = None, device_id: str | None = None):
        from kiosk.services.cash_devices import report_sign

        return self.client.generic(
            "POST",
            "/api/kiosk/cash-in-module/reports/",
            body,
            content_type="application/json",
            HTTP_X_CASH_IN_DEVICE=device_id or self.device.device_id,
            HTTP_X_CASH_IN_SIGNATURE=signature or report_sign(key=self.key, body=body),
        )

    def report(
        self, notes: object, key: str = "deposit-key-0001", *, session: str | None = None, **fields: Any
    ):
        return self.send(self.body(notes, key, session=session, **fields))


@pytest.fixture
def cash_in_module(kiosk: Any) -> CashInModule:
    return CashInModule(kiosk)


def deposit_counted(driver: KioskDriver, module: CashInModule, notes: object, key: str = "deposit-key-0001"):
    """As a deposit happens: the kiosk opens it, the cash-in module reports its count for the session."""
    opened = driver.post("deposits/open")
    assert opened.status_code == 200, opened.json()
    return module.report(notes, key, session=driver.sid)
