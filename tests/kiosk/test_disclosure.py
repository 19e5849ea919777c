"""The kiosk tells nothing before the decision (the audit trail keeps everything)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent, AuditSnapshot
from kiosk import messages

from .conftest import KioskDriver

pytestmark = pytest.mark.django_db

# What a frame response may say about the face before the decision: one of these hints, nothing else.
QUALITY_HINTS = {"move_closer", "one_person", "more_light", "turn_as_asked", "look_at_camera"}


def test_session_start_does_not_disclose_the_owner_name(driver, alice_card, alice_pan):
    response = driver.start(alice_pan)
    assert response.status_code == 201
    body = response.json()
    assert body["first_name"] == ""
    assert "Alice" not in response.content.decode()
    assert "Archer" not in response.content.decode()


@pytest.mark.parametrize("outcome", ["match", "no_match", "mismatch", "low_quality", "no_face"])
def test_frame_response_has_no_score_before_verification(driver, alice_card, alice_pan, face_script, outcome):
    face_script.play(outcome)
    driver.start(alice_pan)
    response = driver.frame()
    assert response.status_code == 200
    body = response.json()
    assert body["session"]["state"] == "face_pending"
    assert body["match_percent"] is None
    assert "distance" not in body
    assert body["outcome"] == "checking"
    assert body["hint"] in QUALITY_HINTS
    assert body["session"]["first_name"] == ""
    text = response.content.decode()
    assert "Alice" not in text
    assert "%" not in body["message"]
    # The audit trail is where the distance and the raw outcome go.
    assert outcome not in ("match", "no_match", "mismatch") or "0.3" not in text


def test_verified_frame_shows_the_first_name_and_the_match_percent(
    driver, alice_card, alice_pan, face_script
):
    driver.start(alice_pan)
    driver.frame()
    driver.frame()
    body = driver.frame().json()
    assert body["session"]["state"] == "verified"
    assert body["outcome"] == "verified"
    # The session's percentage: its median score (0.3, every scripted frame) read against genuine comparisons.
    from biometrics.services.verification import match_percent

    assert body["match_percent"] == match_percent(0.3)
    assert body["session"]["first_name"] == "Alice"
    assert "Alice" in body["message"]
    assert f"{match_percent(0.3)} %" in body["message"]


def _visible(body: dict) -> dict:
    """A response as the person at the kiosk sees it, without the per-session ids and clocks."""
    session = body.get("session", body)
    hidden = {"id", "frame_nonce", "seconds_left", "challenge", "challenge_text"}
    visible_session = {key: value for key, value in session.items() if key not in hidden}
    if "session" in body:
        return {**{key: value for key, value in body.items() if key != "session"}, "session": visible_session}
    return visible_session


def test_mismatch_and_no_match_look_the_same_to_the_kiosk(
    alice_card, alice_pan, face_script, api, outbox, settings
):
    """Another enrolled customer's face and a stranger's face get the same frames and the same failure."""
    seen: dict[str, list[dict]] = {}
    start = timezone.now()
    for index, outcome in enumerate(["mismatch", "no_match"]):
        kiosk_driver = KioskDriver(api)
        face_script.play(outcome)
        with time_machine.travel(start + dt.timedelta(hours=index), tick=False) as traveller:
            kiosk_driver.start(alice_pan)
            frames = [_visible(kiosk_driver.frame().json()) for _ in range(3)]
            traveller.shift(dt.timedelta(seconds=settings.KIOSK_FACE_TIMEOUT_S + 1))
            failed = _visible(kiosk_driver.status().json())
        seen[outcome] = [*frames, failed]
    assert seen["mismatch"] == seen["no_match"]
    failed = seen["mismatch"][-1]
    assert failed["state"] == "face_failed"
    assert failed["face_failure_reason"] == "no_match"
    assert failed["can_request_otp"] is True
    # The audit trail still tells them apart, with the distance and the nearest other customer.
    decisions = AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_DECISION, outcome="failure")
    reasons = sorted(event.data["reason"] for event in decisions)
    assert "mismatch" in reasons and "no_match" in reasons
    evidence = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_MISMATCH)
    assert evidence.data["nearest_customer_id"] == 999
    assert evidence.data["distance"] == 0.3
    assert AuditSnapshot.objects.filter(event=evidence).exists()


def _code_request_transcript(api, alice_pan: str, face_script, settings, *, outcome: str, at) -> list:
    """Frames of `outcome` until the face deadline, then the code request and one typed code."""
    kiosk_driver = KioskDriver(api)
    face_script.play(outcome)
    with time_machine.travel(at, tick=False) as traveller:
        kiosk_driver.start(alice_pan)
        seen = [_visible(kiosk_driver.frame().json())]
        traveller.shift(dt.timedelta(seconds=settings.KIOSK_FACE_TIMEOUT_S + 1))
        seen.append(_visible(kiosk_driver.status().json()))
        requested = kiosk_driver.post("otp")
        seen.append((requested.status_code, _visible(requested.json())))
        typed = kiosk_driver.post("otp/verify", {"code": "000000"})
        seen.append((typed.status_code, typed.json()))
    return seen


def test_the_code_request_answers_the_same_for_another_customers_face_and_a_strangers(
    api, alice_card, alice_pan, face_script, outbox, settings
):
    """The oracle as found: 403 for another enrolled customer's face, 200 for a stranger's. Now both get the
    same answers; only the stranger's code (the owner failing the face check) reaches the owner's phone."""
    start = timezone.now()
    mismatch = _code_request_transcript(api, alice_pan, face_script, settings, outcome="mismatch", at=start)
    assert outbox == []  # no code for another customer's face
    stranger = _code_request_transcript(
        api, alice_pan, face_script, settings, outcome="no_match", at=start + dt.timedelta(hours=1)
    )
    assert len(outbox) == 1
    assert mismatch == stranger
    assert mismatch[2][0] == 200 and mismatch[2][1]["state"] == "otp_sent"
    assert mismatch[3][1]["code"] == "otp_wrong"
    refused = AuditEvent.objects.get(kind=AuditEvent.Kind.OTP_REFUSED)
    assert refused.data["why"] == "mismatch"


def test_progress_before_the_decision_is_the_same_for_the_owner_and_a_stranger(
    api, alice_card, alice_pan, face_script, settings
):
    """`match_streak` rose only for frames matching the owner: an oracle for whose face it is."""
    settings.FACE_MATCH_FRAMES_REQUIRED = 5
    seen = {}
    start = timezone.now()
    for index, outcome in enumerate(("match", "no_match", "mismatch")):
        kiosk_driver = KioskDriver(api)
        face_script.play(outcome)
        with time_machine.travel(start + dt.timedelta(hours=index), tick=False):
            kiosk_driver.start(alice_pan)
            seen[outcome] = [_visible(kiosk_driver.frame().json()) for _ in range(4)]
    assert seen["match"] == seen["no_match"] == seen["mismatch"]
    assert [frame["session"]["match_streak"] for frame in seen["match"]] == [1, 2, 3, 4]


def test_a_phone_change_pause_has_no_refusal_code_of_its_own(
    driver, alice_card, alice_pan, face_script, outbox, settings
):
    """`otp_paused_after_phone_change` told the person at the kiosk that the phone had just changed."""
    customer = alice_card.customer
    customer.phone_changed_at = timezone.now()
    customer.save(update_fields=["phone_changed_at"])
    face_script.play("several_faces")
    settings.KIOSK_SEVERAL_FACES_GRACE_S = 0
    driver.start(alice_pan)
    driver.frame()
    refused = driver.post("otp")
    assert (refused.status_code, refused.json()["code"]) == (403, "otp_unavailable")
    assert refused.json()["detail"] == str(messages.END_MESSAGES["otp_unavailable"])
    assert outbox == []


@pytest.mark.parametrize("ending", ["several_faces", "no_face"])
def test_a_mismatch_session_ends_like_a_strangers_whatever_comes_after(
    api, alice_card, alice_pan, face_script, settings, ending
):
    seen = {}
    start = timezone.now()
    for index, first in enumerate(["mismatch", "no_match"]):
        kiosk_driver = KioskDriver(api)
        face_script.play(first, ending)
        face_script.calls = 0
        with time_machine.travel(start + dt.timedelta(hours=index), tick=False) as traveller:
            kiosk_driver.start(alice_pan)
            frames = [_visible(kiosk_driver.frame().json()) for _ in range(2)]
            if ending == "no_face":  # the face check then runs out of time
                traveller.shift(dt.timedelta(seconds=settings.KIOSK_FACE_TIMEOUT_S + 1))
            seen[first] = [*frames, _visible(kiosk_driver.status().json())]
    assert seen["mismatch"] == seen["no_match"]
    assert seen["mismatch"][-1]["state"] == "face_failed"
    assert (
        seen["mismatch"][-1]["face_failure_reason"]
        == {"several_faces": "several_faces", "no_face": "timeout"}[ending]
    )
