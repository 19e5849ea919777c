"""On a shared phone, the face decides whose account (issue 20, item 5 and the shared-phone low).

Two customers opted in with one family phone number. The account opened is the one whose owner the face
matched; a PIN only confirms that owner, whether the face check passed or the WhatsApp code stood in for it.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
import time_machine
from django.utils import timezone

from biometrics.engine.types import Box, Face, Quality
from biometrics.services import verification
from biometrics.verdicts import FaceOutcome
from kiosk.models import CardlessAccess, KioskSession
from tests.factories import CustomerFactory

from .test_cardless import PHONE, PIN, CandidateScript, CardlessDriver, carol, cd, opted_in, script  # noqa: F401

pytestmark = pytest.mark.django_db

DAVE_PIN = "7391"


@pytest.fixture
def dave(carol: CardlessAccess) -> CardlessAccess:  # noqa: F811
    return opted_in(CustomerFactory(full_name="Dave Cardless", phone=PHONE), pin=DAVE_PIN)


def _face_then_code(cd: CardlessDriver, script: CandidateScript, outbox: list, *, face_of: int) -> None:  # noqa: F811
    """The face matches `face_of` once, then the check fails (as PAD refusing every frame would); the code
    stands in for the face."""
    script.matched = face_of
    script.play("match", "no_match")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert cd.start_phone(PHONE).status_code == 201
        cd.face_frames(2)
        traveller.shift(dt.timedelta(seconds=25))
        cd.frame()
    assert cd.session["state"] == "face_failed"
    assert cd.post("otp").status_code == 200
    code = re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)
    assert cd.post("otp/verify", {"code": code}).json()["state"] == "pin_pending"


@pytest.mark.parametrize("face_is", ["carol", "dave"])
def test_shared_phone_after_the_code_the_face_not_the_pin_picks_the_account(
    cd: CardlessDriver,  # noqa: F811
    carol: CardlessAccess,  # noqa: F811
    dave: CardlessAccess,
    script: CandidateScript,  # noqa: F811
    outbox: list,
    face_is: str,
) -> None:
    """The finding: A's face, the code and B's PIN opened B's account. Both orders."""
    face_of, other = (carol, dave) if face_is == "carol" else (dave, carol)
    pins = {carol.customer_id: PIN, dave.customer_id: DAVE_PIN}
    _face_then_code(cd, script, outbox, face_of=face_of.customer_id)
    refused = cd.pin(pins[other.customer_id])
    assert refused.status_code == 400 and refused.json()["code"] == "pin_wrong"
    assert KioskSession.objects.get().state == "pin_pending"
    assert cd.pin(pins[face_of.customer_id]).status_code == 200
    session = KioskSession.objects.get()
    assert (session.state, session.customer_id, session.account_id) == (
        "verified",
        face_of.customer_id,
        face_of.account_id,
    )


@pytest.mark.parametrize("face_is", ["carol", "dave"])
def test_shared_phone_a_correct_pin_for_one_customer_is_not_wrong_for_the_other(
    cd: CardlessDriver,  # noqa: F811
    carol: CardlessAccess,  # noqa: F811
    dave: CardlessAccess,
    script: CandidateScript,  # noqa: F811
    settings,
    face_is: str,
) -> None:
    face_of, other = (carol, dave) if face_is == "carol" else (dave, carol)
    pins = {carol.customer_id: PIN, dave.customer_id: DAVE_PIN}
    script.matched = face_of.customer_id
    cd.start_phone(PHONE)
    cd.face_frames(3)
    assert cd.session["state"] == "pin_pending"
    for _ in range(settings.CARDLESS_PIN_MAX_FAILURES):
        assert cd.pin(pins[other.customer_id]).status_code == 400
    for access in (carol, dave):
        access.refresh_from_db()
        assert (access.status, access.consecutive_pin_failures) == ("active", 0)
    assert cd.pin(pins[face_of.customer_id]).json()["first_name"] == face_of.customer.full_name.split()[0]


def test_shared_phone_a_face_that_matched_nobody_lets_no_pin_pick_an_account(
    cd: CardlessDriver,  # noqa: F811
    carol: CardlessAccess,  # noqa: F811
    dave: CardlessAccess,
    script: CandidateScript,  # noqa: F811
    outbox: list,
) -> None:
    script.play("no_match")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        cd.start_phone(PHONE)
        cd.frame()
        traveller.shift(dt.timedelta(seconds=25))
        cd.frame()
    assert cd.post("otp").status_code == 200
    code = re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)
    cd.post("otp/verify", {"code": code})
    assert cd.pin(PIN).status_code == 403
    assert KioskSession.objects.get().customer_id is None


def test_several_candidates_are_pad_scored_like_one(monkeypatch, settings) -> None:
    """With PAD on, a shared phone's match carried no PAD score (pad_score_low with pad_frames 0)."""
    settings.LIVENESS_ENABLED = settings.PAD_ENABLED = True
    face = Face(Box(10, 60, 60, 10), np.zeros((68, 2), np.float32), Quality(50, 100.0, 120.0))
    probe = np.zeros(128, np.float32)
    galleries = {1: np.zeros((1, 128), np.float32), 2: np.full((1, 128), 0.1, np.float32)}
    monkeypatch.setattr(
        verification, "_usable_face", lambda image, owner_ids=(): (face, [face.box.as_dict()], [])
    )
    monkeypatch.setattr(verification, "gallery_state_read", lambda: (1, 0))
    monkeypatch.setattr(verification.engine, "encode_face", lambda image, face: probe)
    monkeypatch.setattr(verification.engine, "pad_score", lambda image, box, models: 0.93)
    monkeypatch.setattr(
        verification, "customer_active_encodings", lambda *, customer_id, state: galleries[customer_id]
    )
    image = np.zeros((80, 80, 3), np.uint8)
    single = verification.frame_verify(customer_id=1, image=image)
    several = verification.frame_verify_candidates(customer_ids=[1, 2], image=image)
    assert (single.outcome, several.outcome) == (FaceOutcome.MATCH, FaceOutcome.MATCH)
    assert several.customer_id == 1
    assert several.pad_score == single.pad_score == 0.93
