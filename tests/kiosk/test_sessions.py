"""The session state machine, the K-frame rule, replay and the server-side timeouts."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Card
from audit.models import AuditEvent
from kiosk.models import CardSecurity, KioskSession

from .conftest import jpeg_frame

pytestmark = pytest.mark.django_db


def test_start_creates_session_in_card_entered(driver, alice_card, alice_pan):
    response = driver.start(alice_pan)
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "card_entered"
    assert (
        body["first_name"] == ""
    )  # nothing about the owner before verification (tests/kiosk/test_disclosure.py)
    assert body["masked_pan"].endswith(alice_pan[-4:])
    assert alice_pan not in response.content.decode()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.KIOSK_SESSION_START).count() == 1


def test_k_consecutive_matching_frames_verify(driver, alice_card, alice_pan, face_script, settings):
    settings.FACE_MATCH_FRAMES_REQUIRED = 3
    driver.start(alice_pan)
    face_script.play("match", "match", "no_match", "match", "match", "match")
    states = []
    for _ in range(6):
        response = driver.frame()
        assert response.status_code == 200
        # The streak is the server's own (the kiosk is shown the same progress for every face).
        states.append((response.json()["session"]["state"], KioskSession.objects.get().match_streak))
    # The no_match frame breaks the streak: only the 3 matches after it count.
    assert states[:5] == [
        ("face_pending", 1),
        ("face_pending", 2),
        ("face_pending", 0),
        ("face_pending", 1),
        ("face_pending", 2),
    ]
    assert states[5] == ("verified", 3)
    session = KioskSession.objects.get()
    assert session.verified_by == "face"
    assert session.frames_seen == 6
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_DECISION, outcome="success").count() == 1


def test_frame_response_carries_boxes_and_a_hint(driver, alice_card, alice_pan):
    driver.start(alice_pan)
    body = driver.frame().json()
    assert body["boxes"] == [{"top": 10, "right": 40, "bottom": 40, "left": 10}]
    assert (body["outcome"], body["hint"], body["match_percent"]) == ("checking", "look_at_camera", None)
    assert body["session"]["first_name"] == ""
    assert (body["frame_width"], body["frame_height"]) == (64, 48)


def test_replayed_frame_is_refused_and_changes_nothing(driver, alice_card, alice_pan):
    driver.start(alice_pan)
    frame = jpeg_frame()
    assert driver.frame(frame).status_code == 200
    response = driver.frame(frame)
    assert response.status_code == 400
    assert response.json()["code"] == "frame_replayed"
    session = KioskSession.objects.get()
    assert (session.frames_seen, session.match_streak, session.frame_seq) == (1, 1, 1)


def test_frame_needs_the_session_nonce_and_next_sequence_number(driver, alice_card, alice_pan):
    driver.start(alice_pan)
    assert driver.frame(nonce="forged").json()["code"] == "frame_nonce"
    response = driver.frame(seq=5)
    assert response.status_code == 409
    assert response.json() == {"code": "frame_sequence", "detail": "Frame out of order.", "expected_seq": 1}
    assert driver.frame().status_code == 200
    assert driver.frame(seq=1).status_code == 409  # an old sequence number is not accepted again
    assert KioskSession.objects.get().frames_seen == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"not an image at all", "frame_not_an_image"), (b"", "invalid")],
)
def test_frames_that_are_not_images_are_refused(driver, alice_card, alice_pan, data, code):
    driver.start(alice_pan)
    response = driver.frame(data)
    assert response.status_code == 400
    assert response.json()["code"].startswith(code.split("_")[0])
    assert KioskSession.objects.get().frames_seen == 0


def test_too_large_frame_is_refused(driver, alice_card, alice_pan, settings):
    settings.KIOSK_FRAME_MAX_BYTES = 1000
    driver.start(alice_pan)
    response = driver.frame(b"\xff\xd8" + b"0" * 2000)
    assert response.status_code == 413
    assert response.json()["code"] == "frame_too_large"
    assert KioskSession.objects.get().frames_seen == 0


def test_several_faces_fail_the_check_with_a_snapshot(driver, alice_card, alice_pan, face_script):
    driver.start(alice_pan)
    face_script.play("match", "several_faces")
    driver.frame()
    body = driver.frame().json()
    assert body["outcome"] == "failed"
    assert len(body["boxes"]) == 2
    assert body["session"]["state"] == "face_failed"
    assert body["session"]["can_request_otp"] is True
    assert "one person" in body["message"]
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_DECISION)
    assert (event.outcome, event.data["reason"]) == ("failure", "several_faces")
    assert CardSecurity.objects.get(card=alice_card).consecutive_face_failures == 1


def test_face_timeout_is_decided_by_the_server(driver, alice_card, alice_pan, face_script, settings):
    settings.KIOSK_FACE_TIMEOUT_S = 20
    face_script.play("no_match")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        driver.frame()
        traveller.shift(dt.timedelta(seconds=19))
        assert driver.frame().json()["session"]["state"] == "face_pending"
        traveller.shift(dt.timedelta(seconds=2))
        body = driver.frame().json()
    assert body["session"]["state"] == "face_failed"
    assert body["session"]["face_failure_reason"] == "no_match"
    assert KioskSession.objects.get().state == "face_failed"


def test_face_timeout_also_applies_without_frames(driver, alice_card, alice_pan, face_script):
    face_script.play("no_face")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        driver.frame()
        traveller.shift(dt.timedelta(seconds=21))
        body = driver.status().json()
    assert body["state"] == "face_failed"
    assert body["face_failure_reason"] == "timeout"


def test_idle_and_absolute_timeouts_end_the_session(driver, alice_card, alice_pan, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        driver.verify_face()
        traveller.shift(dt.timedelta(seconds=61))
        assert driver.status().json()["state"] == "ended"
    assert KioskSession.objects.get().end_reason == "idle_timeout"
    assert driver.get("balance").status_code == 409

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        driver.verify_face()
        for _ in range(6):  # active all along, but the 5-minute cap still applies
            traveller.shift(dt.timedelta(seconds=55))
            driver.get("balance")
        response = driver.get("balance")
    assert response.status_code == 409
    assert KioskSession.objects.order_by("-created_at").first().end_reason == "session_timeout"


def test_every_step_refreshes_the_idle_timer(driver, alice_card, alice_pan):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        driver.verify_face()
        for _ in range(3):
            traveller.shift(dt.timedelta(seconds=50))
            assert driver.get("balance").status_code == 200
    assert KioskSession.objects.get().state == "in_menu"


def test_status_polling_does_not_keep_a_session_alive(driver, alice_card, alice_pan):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        driver.verify_face()
        for _ in range(3):
            traveller.shift(dt.timedelta(seconds=25))
            driver.status()
    assert driver.session["state"] == "ended"


def test_frames_for_an_ended_session_are_refused(driver, alice_card, alice_pan):
    driver.start(alice_pan)
    nonce = driver.session["frame_nonce"]
    assert driver.post("end").json()["state"] == "ended"
    response = driver.frame(nonce=nonce, seq=1)
    assert response.status_code == 409
    assert response.json()["code"] == "session_ended"
    assert KioskSession.objects.get().frames_seen == 0


def test_new_card_at_the_kiosk_ends_the_previous_session(driver, alice_card, alice_pan, bob_card):
    from tests.factories import make_pan

    driver.start(alice_pan)
    first = driver.sid
    driver.start(make_pan(2))
    assert KioskSession.objects.get(public_id=first).end_reason == "replaced"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (Card.Status.BLOCKED, "card_blocked"),
        (Card.Status.STOLEN, "card_stolen"),
        (Card.Status.EXPIRED, "card_expired"),
    ],
)
def test_unusable_card_cannot_start_a_session(driver, alice_card, alice_pan, status, code):
    Card.objects.filter(pk=alice_card.pk).update(status=status)
    response = driver.start(alice_pan)
    assert response.status_code == 403
    assert response.json()["code"] == code
    assert KioskSession.objects.count() == 0


def test_card_past_its_expiry_date_cannot_start(driver, alice_card, alice_pan):
    Card.objects.filter(pk=alice_card.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    assert driver.start(alice_pan).json()["code"] == "card_expired"


def test_unknown_and_invalid_cards(driver, db):
    from tests.factories import make_pan

    assert driver.start(make_pan(77)).status_code == 404
    response = driver.start("1234")
    assert response.status_code == 400
    assert response.json()["code"] == "card_invalid"
    assert KioskSession.objects.count() == 0


def test_customer_without_face_goes_straight_to_otp(driver, alice_card, alice_pan, face_script):
    face_script.enrolled = False
    body = driver.start(alice_pan).json()
    assert (body["state"], body["face_failure_reason"], body["can_request_otp"]) == (
        "face_failed",
        "not_enrolled",
        True,
    )
    assert body["frame_nonce"] is None


def test_five_failed_checks_lock_face_for_the_card(driver, alice_card, alice_pan, face_script, settings):
    settings.KIOSK_FACE_LOCKOUT_FAILURES = 5
    face_script.play("several_faces")
    for _ in range(5):
        driver.start(alice_pan)
        assert driver.frame().json()["session"]["state"] == "face_failed"
    locked_until = CardSecurity.objects.get(card=alice_card).face_locked_until
    assert locked_until is not None
    assert locked_until > timezone.now() + dt.timedelta(minutes=29)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOCKOUT).count() == 1
    body = driver.start(alice_pan).json()
    assert (body["state"], body["face_failure_reason"]) == ("face_failed", "face_locked")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31)):
        assert driver.start(alice_pan).json()["state"] == "card_entered"


def test_a_face_success_resets_the_failure_series(driver, alice_card, alice_pan, face_script):
    face_script.play("several_faces")
    for _ in range(4):
        driver.start(alice_pan)
        driver.frame()
    face_script.play("match")
    face_script.calls = 0
    driver.start(alice_pan)
    driver.verify_face()
    assert CardSecurity.objects.get(card=alice_card).consecutive_face_failures == 0


# Mismatches (another enrolled customer's face): tests/kiosk/test_disclosure.py and test_card_lockouts.py.


def test_failure_stores_the_failing_frame_encrypted_with_its_audit_event(
    driver, alice_card, alice_pan, face_script
):
    from atmsite.crypto import encrypted_file_read
    from audit.models import AuditEvent, AuditSnapshot

    face_script.play("several_faces")
    driver.start(alice_pan)
    frame = jpeg_frame()
    driver.frame(frame)
    snapshot = AuditSnapshot.objects.get()
    assert snapshot.event.kind == AuditEvent.Kind.FACE_DECISION
    assert snapshot.event.data["reason"] == "several_faces"
    assert encrypted_file_read(snapshot.storage_name) == frame


def test_abandoned_sessions_are_closed_by_the_sweep(driver, alice_card, alice_pan):
    from kiosk.tasks import kiosk_sessions_expire_task

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        driver.verify_face()
        traveller.shift(dt.timedelta(seconds=61))
        assert kiosk_sessions_expire_task.delay().get() == 1
    session = KioskSession.objects.get()
    assert (session.state, session.end_reason) == ("ended", "idle_timeout")


def test_without_any_frame_the_face_check_times_out_to_otp(driver, alice_card, alice_pan):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        traveller.shift(dt.timedelta(seconds=19))
        assert driver.status().json()["state"] == "card_entered"
        traveller.shift(dt.timedelta(seconds=2))
        body = driver.status().json()
    assert (body["state"], body["face_failure_reason"], body["can_request_otp"]) == (
        "face_failed",
        "timeout",
        True,
    )


def test_a_bystander_in_one_frame_is_a_warning_not_a_failure(
    driver, alice_card, alice_pan, face_script, settings
):
    settings.KIOSK_SEVERAL_FACES_GRACE_S = 1.0
    face_script.play("match", "several_faces", "match", "several_faces", "several_faces")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        driver.start(alice_pan)
        driver.frame()
        clock.shift(0.2)
        body = driver.frame().json()
        # Warned: the check goes on, and the customer is asked to be alone in front of the camera.
        assert (body["outcome"], body["hint"]) == ("checking", "one_person")
        assert "only the card holder" in body["message"].lower()
        assert body["session"]["state"] == "face_pending"
        clock.shift(0.2)
        driver.frame()  # one face again: the warning is over
        clock.shift(0.2)
        assert driver.frame().json()["outcome"] == "checking"
        clock.shift(0.9)  # 0.9 s of bystander: still within the grace
        assert driver.frame().json()["outcome"] == "checking"
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_DECISION).exists()
    assert CardSecurity.objects.filter(card=alice_card, consecutive_face_failures__gt=0).count() == 0


def test_a_bystander_who_stays_fails_the_check_with_a_snapshot(
    driver, alice_card, alice_pan, face_script, settings
):
    settings.KIOSK_SEVERAL_FACES_GRACE_S = 1.0
    face_script.play("several_faces")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        driver.start(alice_pan)
        assert driver.frame().json()["outcome"] == "checking"
        clock.shift(0.5)
        assert driver.frame().json()["outcome"] == "checking"
        clock.shift(0.6)
        body = driver.frame().json()
    assert body["outcome"] == "failed"
    assert body["session"]["state"] == "face_failed"
    assert body["session"]["face_failure_reason"] == "several_faces"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_DECISION)
    assert (event.outcome, event.data["reason"]) == ("failure", "several_faces")
    assert event.snapshots.count() == 1


def test_replayed_frames_with_liveness_on_end_the_check_as_a_liveness_failure(
    driver, alice_card, alice_pan, face_script, settings
):
    """A virtual camera sending one still image: after a few identical frames the check fails at once."""
    settings.LIVENESS_ENABLED = True
    settings.KIOSK_REPLAYED_FRAMES_LIMIT = 3
    face_script.play("no_face")  # scripted frames carry no landmarks; the replay rule needs none
    driver.start(alice_pan)
    frame = jpeg_frame()
    assert driver.frame(frame).status_code == 200
    for _ in range(2):
        response = driver.frame(frame)
        assert (response.status_code, response.json()["code"]) == (400, "frame_replayed")
    assert KioskSession.objects.get().state == "face_pending"
    response = driver.frame(frame)
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "failed"
    assert body["session"]["state"] == "face_failed"
    assert body["session"]["face_failure_reason"] == "liveness"
    assert body["message"] == "The camera could not confirm a live person in front of it."
    liveness = AuditEvent.objects.get(kind=AuditEvent.Kind.LIVENESS_FAILED)
    assert liveness.data["reason"] == "replayed_frames"
    decision = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_DECISION)
    assert decision.data["reason"] == "liveness"
    assert decision.snapshots.count() == 1


def test_replayed_frames_count_only_in_a_row(driver, alice_card, alice_pan, face_script, settings):
    settings.LIVENESS_ENABLED = True
    settings.KIOSK_REPLAYED_FRAMES_LIMIT = 3
    face_script.play("no_face")
    driver.start(alice_pan)
    for _ in range(3):
        frame = jpeg_frame()
        assert driver.frame(frame).status_code == 200
        for _ in range(2):
            assert driver.frame(frame).status_code == 400
    assert KioskSession.objects.get().state == "face_pending"
