"""The kiosk flow with the real face engine on real photos (ATM_FACES_DIR): owner, impostor, two people."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from accounts.models import Card, Customer
from audit.models import AuditEvent
from kiosk.models import KioskSession
from kiosk.services import sessions
from kiosk.services.frames import session_frame_submit
from tests.factories import BankAccountFactory, CardFactory, CustomerFactory, make_pan
from tests.kiosk.conftest import card_read_of
from tests.support.faces import first_enrolment_approve

pytestmark = [pytest.mark.faces, pytest.mark.django_db]


def _enrol(customer, photos: list[Path]) -> None:
    from biometrics.services import enrolment_capture

    enrolment_capture.customer_consent_record(customer=customer, actor=None)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=None, photos_required=len(photos))
    for path in photos:
        enrolment_capture.enrolment_photo_add(
            enrolment=enrolment, data=path.read_bytes(), actor=None, require_pose_change=False
        )
    enrolment_capture.enrolment_submit(enrolment=enrolment, actor=None, allow_partial=True)


def _frames(path: Path, count: int) -> list[bytes]:
    """The photo letterboxed into 640×480, as distinct JPEGs (a camera never sends identical bytes)."""
    image = Image.open(path).convert("RGB")
    image.thumbnail((640, 480))
    canvas = Image.new("RGB", (640, 480), (40, 40, 40))
    canvas.paste(image, ((640 - image.width) // 2, (480 - image.height) // 2))
    frames = []
    for index in range(count):
        noise = np.random.default_rng(index).integers(-3, 4, size=(480, 640, 3))  # sensor noise
        pixels = np.clip(np.asarray(canvas).astype(np.int16) + noise, 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
        frames.append(buffer.getvalue())
    return frames


@pytest.fixture
def enrolled(faces_dir, kiosk, django_capture_on_commit_callbacks):
    from biometrics.services.gallery_sync import gallery_reset
    from biometrics.services.verification import cache_clear

    gallery_reset()  # the process-wide gallery must not remember other tests' databases
    cache_clear()
    obama = CustomerFactory(full_name="Barack Obama")
    biden = CustomerFactory(full_name="Joe Biden")
    people = faces_dir / "people"
    # The encoding task is queued on commit; run it here.
    with django_capture_on_commit_callbacks(execute=True):
        _enrol(obama, [people / "barack_obama" / f"obama_{n}.jpg" for n in (1, 2, 3, 4)])
    with django_capture_on_commit_callbacks(execute=True):
        _enrol(biden, [people / "joe_biden" / "biden_1.jpg"])
    first_enrolment_approve(obama)  # a first face waits for a second member of staff
    first_enrolment_approve(biden)
    card = CardFactory(account=BankAccountFactory(customer=obama), customer=obama, pan=make_pan(41))
    return card


def _run(kiosk, pan: str, frames: list[bytes]) -> KioskSession:
    session = sessions.session_start(kiosk=kiosk, card_read=card_read_of(pan))
    for seq, data in enumerate(frames, start=1):
        result = session_frame_submit(
            kiosk=kiosk, public_id=session.public_id, nonce=session.frame_nonce, seq=seq, data=data
        )
        if result.session.state not in ("card_entered", "face_pending"):
            break
    return KioskSession.objects.get(pk=session.pk)


def test_owner_is_verified_after_k_frames(enrolled, kiosk, faces_dir, settings):
    settings.FACE_MATCH_FRAMES_REQUIRED = 3
    frames = _frames(faces_dir / "people" / "barack_obama" / "obama_5_480p.jpg", 3)
    session = _run(kiosk, make_pan(41), frames)
    assert (session.state, session.verified_by, session.frames_seen) == ("verified", "face", 3)


def test_two_people_are_refused(enrolled, kiosk, faces_dir):
    session = _run(kiosk, make_pan(41), _frames(faces_dir / "scenes" / "obama_and_biden.jpg", 1))
    assert (session.state, session.face_failure_reason) == ("face_failed", "several_faces")


def test_another_enrolled_customer_is_a_mismatch(enrolled, kiosk, faces_dir):
    session = _run(kiosk, make_pan(41), _frames(faces_dir / "people" / "joe_biden" / "biden_2.jpg", 1))
    # Remembered and audited, but the check goes on as for a stranger: the kiosk cannot tell the two apart.
    assert (session.state, session.mismatch_seen) == ("face_pending", True)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_MISMATCH)
    assert event.data["nearest_customer_id"] == Customer.objects.get(full_name="Joe Biden").pk
    assert Card.objects.get(pk=enrolled.pk).status == Card.Status.ACTIVE


def test_with_liveness_on_a_still_photo_of_the_owner_is_refused(enrolled, kiosk, faces_dir, settings):
    """The owner's photo matches every frame, but a photo cannot turn its head: the challenge is never met."""
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from audit.models import AuditEvent

    settings.LIVENESS_ENABLED = True
    settings.LIVENESS_TIME_LIMIT_S = 2.0
    frames = _frames(faces_dir / "people" / "barack_obama" / "obama_5_480p.jpg", 12)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        session = sessions.session_start(kiosk=kiosk, card_read=card_read_of(make_pan(41)))
        assert session.liveness_state["challenge"] in ("turn_left", "turn_right")
        for seq, data in enumerate(frames, start=1):
            traveller.shift(dt.timedelta(milliseconds=250))
            result = session_frame_submit(
                kiosk=kiosk, public_id=session.public_id, nonce=session.frame_nonce, seq=seq, data=data
            )
            assert result.session.state != "verified"
            if result.session.state != "face_pending":
                break
    session.refresh_from_db()
    assert (session.state, session.face_failure_reason) == ("face_failed", "liveness")
    assert session.match_streak == 0
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LIVENESS_FAILED)
    assert event.data["reason"] == "challenge_not_met"
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_DECISION, snapshots__isnull=False).exists()


# Frames of the shared clip read at 0.1 s steps (every 3rd at 30 fps) up to 6.6 s: the turn (2.8-4.6 s), then
# singing while he looks back, with the mouth open at about 5.3 and 5.9 s.
CLIP_FRAMES = 66


@pytest.fixture
def clip_owner(faces_dir, kiosk, django_capture_on_commit_callbacks):
    """The performer of the shared real video, enrolled from that clip (the branch portal's clip path)."""
    from biometrics.services import enrolment_capture
    from biometrics.services.gallery_sync import gallery_reset
    from biometrics.services.verification import cache_clear

    gallery_reset()
    cache_clear()
    clip = (faces_dir / "video" / "short_hamilton_clip.mp4").read_bytes()
    performer = CustomerFactory(full_name="Clip Performer")
    enrolment_capture.customer_consent_record(customer=performer, actor=None)
    enrolment = enrolment_capture.enrolment_start(customer=performer, actor=None, photos_required=5)
    enrolment_capture.enrolment_clip_add(enrolment=enrolment, data=clip, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        enrolment_capture.enrolment_submit(enrolment=enrolment, actor=None, allow_partial=True)
    first_enrolment_approve(performer)
    CardFactory(account=BankAccountFactory(customer=performer), customer=performer, pan=make_pan(61))
    return clip


def _clip_session(kiosk, clip: bytes) -> KioskSession:
    """Frames 2.8 s to 6.6 s of the real clip, 0.1 s apart: the performer turns from yaw +19 to -35 degrees
    (towards his own right), a real head turn with real parallax, and sings on: his mouth opens and closes
    while he looks back (the mouth challenge after the turn)."""
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from biometrics import engine

    clip_frames = engine.decode_video_frames(clip, max_frames=CLIP_FRAMES, every=3)[28:]
    frames = [engine.jpeg_encode(frame) for frame in clip_frames]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        session = sessions.session_start(kiosk=kiosk, card_read=card_read_of(make_pan(61)))
        for seq, data in enumerate(frames, start=1):
            traveller.shift(dt.timedelta(milliseconds=100))
            result = session_frame_submit(
                kiosk=kiosk, public_id=session.public_id, nonce=session.frame_nonce, seq=seq, data=data
            )
            if result.session.state != "face_pending":
                break
    return KioskSession.objects.get(pk=session.pk)


def test_with_liveness_on_a_real_head_turn_verifies_the_owner(clip_owner, kiosk, settings):
    settings.LIVENESS_ENABLED = True
    settings.LIVENESS_CHALLENGES = ["turn_right"]  # what the real clip does; the server still picks it
    session = _clip_session(kiosk, clip_owner)
    assert (session.state, session.verified_by) == ("verified", "face")
    assert session.liveness_state["challenge"] == "turn_right"


def test_with_liveness_on_the_same_real_turn_fails_the_opposite_challenge(clip_owner, kiosk, settings):
    settings.LIVENESS_ENABLED = True
    settings.LIVENESS_CHALLENGES = ["turn_left"]
    session = _clip_session(kiosk, clip_owner)
    assert (session.state, session.face_failure_reason) == ("face_failed", "liveness")
