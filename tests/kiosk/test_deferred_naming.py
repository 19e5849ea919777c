"""The matcher (1:N) did not answer in time at a failed frame: the kiosk goes on as a no-match, keeps the
probe, and a later naming that finds another enrolled customer applies the mismatch rule after the fact."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import time_machine
from django.utils import timezone

from accounts.models import Card
from audit.models import AuditEvent
from biometrics.matcher import MatcherUnavailable, Nearest
from biometrics.verdicts import FrameVerdict
from kiosk.models import CardSecurity, DeferredNaming, KioskSession, OtpCode
from kiosk.services import face, naming

from .conftest import FaceScript, scripted_verdict, second_kiosk_driver

pytestmark = pytest.mark.django_db

PROBE = np.full(128, 0.05, dtype=np.float32)


@pytest.fixture
def matcher_away(face_script: FaceScript, monkeypatch: pytest.MonkeyPatch) -> FaceScript:
    """Frames that do not match the owner and that the matcher could not name in time."""

    def verify(*, customer_id: int, image: np.ndarray) -> FrameVerdict:
        face_script.calls += 1
        return scripted_verdict("no_match", distance=0.71, naming_pending=True, probe=PROBE.copy())

    monkeypatch.setattr(face, "frame_verify", verify)
    return face_script


def _matcher_answers(monkeypatch: pytest.MonkeyPatch, nearest: Nearest) -> list[dict]:
    asked: list[dict] = []

    def nearest_other_customer(*, probe_text: str, customer_id: int, deadline_s: float) -> Nearest:
        asked.append({"probe_text": probe_text, "customer_id": customer_id})
        return nearest

    monkeypatch.setattr(face, "nearest_other_customer", nearest_other_customer)
    return asked


def _fail_face_check(driver, alice_pan: str) -> None:
    """Unnamed no-match frames until the face deadline (the customer-facing flow)."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        assert driver.frame().json()["outcome"] == "checking"  # the kiosk is told nothing more
        traveller.shift(dt.timedelta(seconds=25))
        assert driver.frame().json()["session"]["state"] == "face_failed"


def _resolve_all(expected: str) -> None:
    for deferral in DeferredNaming.objects.filter(outcome="pending"):
        assert naming.deferred_naming_resolve(deferral_id=deferral.pk) == expected


def test_an_unnamed_no_match_is_kept_encrypted_with_an_audit_event_and_a_queued_naming(
    driver, alice_card, alice_pan, matcher_away, django_capture_on_commit_callbacks
):
    driver.start(alice_pan)
    with django_capture_on_commit_callbacks() as callbacks:
        body = driver.frame().json()
    assert body["outcome"] == "checking" and body["session"]["state"] == "face_pending"
    deferral = DeferredNaming.objects.get()
    assert deferral.outcome == "pending"
    assert len(callbacks) == 1  # deferred_naming_resolve_task.delay, on commit
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT probe FROM kiosk_deferrednaming")
        stored = cursor.fetchone()[0]
    assert stored and "0.05" not in stored and face.probe_pack(PROBE) not in stored  # ciphertext only
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_NAMING_DEFERRED)
    assert event.data["deferred_naming_id"] == deferral.pk
    assert event.snapshots.exists()


def test_no_code_is_offered_while_a_frame_awaits_naming(driver, alice_card, alice_pan, matcher_away, outbox):
    """The finding: with the matcher slow, a face's frames went unnamed and the code was sent anyway."""
    _fail_face_check(driver, alice_pan)
    waiting = driver.post("otp")
    assert (waiting.status_code, waiting.json()["code"]) == (409, "otp_wait")
    assert outbox == [] and not OtpCode.objects.exists()
    assert KioskSession.objects.get().state == "face_failed"


def test_a_late_mismatch_gets_no_code_and_a_strangers_answer_and_counts_on_the_card(
    driver, alice_card, alice_pan, matcher_away, outbox, bob_card, monkeypatch
):
    _fail_face_check(driver, alice_pan)
    asked = _matcher_answers(monkeypatch, Nearest(bob_card.customer_id, 0.41, 2, 2))
    _resolve_all("mismatch")
    assert asked[0]["customer_id"] == alice_card.customer_id  # the owner is never the answer
    session = KioskSession.objects.get()
    # Still a stranger's failed check to the kiosk: ending it now would tell the person it was a mismatch.
    assert (session.state, session.mismatch_seen, session.mismatch_counted) == ("face_failed", True, True)
    assert driver.post("otp").status_code == 200
    assert outbox == []  # ... but no code reaches the owner's phone
    assert driver.post("otp/verify", {"code": "123456"}).json()["code"] == "otp_wrong"
    assert CardSecurity.objects.get(card=alice_card).mismatch_count == 1
    first = AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_NAMING_COMPLETED).order_by("seq").first()
    assert first is not None and first.outcome == AuditEvent.Outcome.FAILURE
    assert first.data["other_customer_id"] == bob_card.customer_id
    assert first.data["state_before"] == "face_failed" and first.data["session_ended"] is False
    assert all(deferral.probe == "" for deferral in DeferredNaming.objects.all())  # erased once named


def test_a_late_mismatch_after_the_face_verified_ends_the_session(
    driver, alice_card, alice_pan, matcher_away, face_script, bob_card, monkeypatch
):
    driver.start(alice_pan)
    driver.frame()  # another customer's face, unnamed
    monkeypatch.setattr(face, "frame_verify", face_script.verify)
    face_script.play("match")
    driver.verify_face()
    _matcher_answers(monkeypatch, Nearest(bob_card.customer_id, 0.41, 2, 2))
    _resolve_all("mismatch")
    session = KioskSession.objects.get()
    assert (session.state, session.end_reason) == ("ended", "mismatch")


def test_a_mismatch_cannot_hide_behind_earlier_unnamed_frames(
    driver, alice_card, alice_pan, face_script, bob_card, monkeypatch, outbox
):
    """Strangers' frames first (more than the snapshots kept), then another customer's: all are named."""
    faces = iter(np.eye(128, dtype=np.float32)[: naming.DEFERRALS_PER_SESSION + 2])

    def verify(*, customer_id: int, image: np.ndarray) -> FrameVerdict:
        return scripted_verdict("no_match", naming_pending=True, probe=next(faces).copy())

    monkeypatch.setattr(face, "frame_verify", verify)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        driver.start(alice_pan)
        for _ in range(naming.DEFERRALS_PER_SESSION + 2):
            driver.frame()
        traveller.shift(dt.timedelta(seconds=25))
        assert driver.status().json()["state"] == "face_failed"
        # Every face kept (only the first few with a snapshot), and no code while any awaits naming.
        assert DeferredNaming.objects.filter(outcome="pending").count() == naming.DEFERRALS_PER_SESSION + 2
        assert driver.post("otp").json()["code"] == "otp_wait"
    last = DeferredNaming.objects.order_by("id").last()
    named = {last.pk: Nearest(bob_card.customer_id, 0.4, 1, 1)}
    for deferral in DeferredNaming.objects.order_by("id"):
        monkeypatch.setattr(
            face,
            "nearest_other_customer",
            lambda **kwargs: named.get(deferral.pk, Nearest(None, None, 1, 1)),  # noqa: B023
        )
        naming.deferred_naming_resolve(deferral_id=deferral.pk)
    assert KioskSession.objects.get().mismatch_seen


def test_late_mismatches_block_the_card_as_immediate_ones_do(
    driver, alice_card, alice_pan, matcher_away, outbox, bob_card, monkeypatch
):
    """Mismatches named late count as evidence like immediate ones: from two different kiosks they block."""
    _matcher_answers(monkeypatch, Nearest(bob_card.customer_id, 0.41, 2, 2))
    for kiosk_driver in (driver, second_kiosk_driver()):
        kiosk_driver.start(alice_pan)
        kiosk_driver.frame()
        for deferral in DeferredNaming.objects.filter(outcome="pending"):
            naming.deferred_naming_resolve(deferral_id=deferral.pk)
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.BLOCKED


def test_late_mismatches_at_one_kiosk_do_not_block(
    driver, alice_card, alice_pan, matcher_away, outbox, bob_card, monkeypatch
):
    _matcher_answers(monkeypatch, Nearest(bob_card.customer_id, 0.41, 2, 2))
    for _ in range(2):
        driver.start(alice_pan)
        driver.frame()
        for deferral in DeferredNaming.objects.filter(outcome="pending"):
            naming.deferred_naming_resolve(deferral_id=deferral.pk)
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.ACTIVE


def test_a_late_no_match_changes_nothing_but_says_so(
    driver, alice_card, alice_pan, matcher_away, outbox, monkeypatch
):
    _fail_face_check(driver, alice_pan)
    _matcher_answers(monkeypatch, Nearest(None, None, 2, 2))
    _resolve_all("no_match")
    assert driver.post("otp").status_code == 200
    assert len(outbox) == 1  # once named, the owner's code goes out
    session = KioskSession.objects.get()
    assert session.state == "otp_sent" and not session.mismatch_seen
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_NAMING_COMPLETED).first()
    assert event is not None and event.outcome == AuditEvent.Outcome.INFO
    assert event.data["result"] == "no_match"


def test_with_the_matcher_still_away_the_probe_is_kept_for_another_try(
    driver, alice_card, alice_pan, matcher_away, monkeypatch
):
    driver.start(alice_pan)
    driver.frame()
    _matcher_answers(monkeypatch, Nearest(None, None, 2, 1, reason="timeout"))
    deferral = DeferredNaming.objects.get()
    with pytest.raises(MatcherUnavailable):
        naming.deferred_naming_resolve(deferral_id=deferral.pk)
    deferral.refresh_from_db()
    assert deferral.outcome == "pending" and deferral.probe
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_NAMING_COMPLETED).exists()
    # A partial answer that already names someone is enough: one shard holding the other customer decides.
    _matcher_answers(monkeypatch, Nearest(7, 0.3, 2, 1, reason="timeout"))
    assert naming.deferred_naming_resolve(deferral_id=deferral.pk) == "mismatch"


def test_the_sweep_names_what_its_tasks_could_not(driver, alice_card, alice_pan, matcher_away, monkeypatch):
    driver.start(alice_pan)
    driver.frame()
    _matcher_answers(monkeypatch, Nearest(None, None, 1, 1))
    assert naming.deferred_namings_sweep(older_than_s=-1) == 1
    assert DeferredNaming.objects.get().outcome == "no_match"


def test_frames_of_one_face_are_kept_once(driver, alice_card, alice_pan, matcher_away):
    driver.start(alice_pan)
    for _ in range(naming.DEFERRALS_PER_SESSION + 3):
        driver.frame()
    assert DeferredNaming.objects.count() == 1
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_NAMING_DEFERRED).count() == 1
