"""Shared helpers for the enrolment / verification / task tests (no tests here).

Imported explicitly by the test modules that use them, so each one shows where its fixtures come from.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from accounts.models import Customer
from biometrics import engine
from biometrics.models import Enrolment
from biometrics.services import enrolment_capture, enrolment_encoding, gallery_sync, verification
from tests.support.faces import first_enrolment_approve

OBAMA = [
    "people/barack_obama/obama_1.jpg",
    "people/barack_obama/obama_2.jpg",
    "people/barack_obama/obama_3.jpg",
]
OBAMA_PROBE = "people/barack_obama/obama_4.jpg"
BIDEN = ["people/joe_biden/biden_1.jpg", "people/joe_biden/biden_2.jpg"]
KIT_PROBE = "people/kit_harington/kit_3.jpg"


@pytest.fixture
def fresh_gallery():
    """The gallery and the owner cache are per process while each test's database is rolled back."""
    gallery_sync.gallery_reset()
    verification.cache_clear()
    yield
    gallery_sync.gallery_reset()
    verification.cache_clear()


_memo: dict[tuple, object] = {}


@pytest.fixture
def memo_engine(monkeypatch):
    """The real engine, with results remembered across tests by image content (detection of a large photo
    costs up to a second; the same photos are enrolled by many tests)."""
    detect, encode = engine.detect_faces, engine.encode_face

    def key(image: np.ndarray) -> bytes:
        return hashlib.blake2b(image.tobytes(), digest_size=16).digest() + repr(image.shape).encode()

    def detect_faces(image: np.ndarray, *, purpose: str):
        memo_key = ("detect", key(image), purpose)
        if memo_key not in _memo:
            _memo[memo_key] = detect(image, purpose=purpose)
        return _memo[memo_key]

    def encode_face(image: np.ndarray, face, *, jitters: int = 1):
        memo_key = ("encode", key(image), face.box, jitters)
        if memo_key not in _memo:
            _memo[memo_key] = encode(image, face, jitters=jitters)
        return _memo[memo_key]

    monkeypatch.setattr(engine, "detect_faces", detect_faces)
    monkeypatch.setattr(engine, "encode_face", encode_face)


def read(faces_dir: Path, relative: str) -> bytes:
    return (faces_dir / relative).read_bytes()


def image(faces_dir: Path, relative: str) -> np.ndarray:
    return engine.decode_image(read(faces_dir, relative))


def enrol(
    customer: Customer, faces_dir: Path, photos: list[str], actor: object, *, encode: bool = True
) -> Enrolment:
    """Consent, capture `photos` as stills, submit, and (in-test) run the encoding service directly."""
    enrolment_capture.customer_consent_record(customer=customer, actor=actor)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=actor, photos_required=len(photos))
    for relative in photos:
        enrolment_capture.enrolment_photo_add(
            enrolment=enrolment, data=read(faces_dir, relative), actor=actor, require_pose_change=False
        )
    enrolment = enrolment_capture.enrolment_submit(enrolment=enrolment, actor=actor)
    if encode:
        enrolment = enrolment_encoding.enrolment_encode(enrolment_id=enrolment.pk)
        first_enrolment_approve(customer)  # a first face waits for a second member of staff (issue 20)
        enrolment.refresh_from_db()
    return enrolment
