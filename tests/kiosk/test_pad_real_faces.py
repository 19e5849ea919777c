"""PAD fused with the head-turn challenge at the kiosk, with the real engine and models: the clip's performer
passes; a screen replay of the same clip (a real head turn, so the landmark checks alone let it through) is
refused through the liveness failure path, with both results in the audit event and the snapshot kept."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from audit.models import AuditEvent
from kiosk.models import KioskSession
from kiosk.services import sessions
from kiosk.services.frames import session_frame_submit
from tests.factories import make_pan
from tests.kiosk.conftest import card_read_of
from tests.kiosk.test_real_faces import CLIP_FRAMES, clip_owner  # noqa: F401 - fixture

pytestmark = [pytest.mark.faces, pytest.mark.django_db]


def _turn_frames(clip: bytes, *, screen: bool) -> list[bytes]:
    """Frames 2.8 s to 6.6 s of the clip, 0.1 s apart: the performer turns to his own right, then sings on
    (his mouth opens and closes: the mouth challenge after the turn)."""
    from bench.liveness_texture import screen_texture
    from biometrics import engine

    frames = engine.decode_video_frames(clip, max_frames=CLIP_FRAMES, every=3)[28:]
    rng = np.random.default_rng(7)
    if screen:
        frames = [screen_texture(frame, rng) for frame in frames]
    return [engine.jpeg_encode(frame) for frame in frames]


def _session(kiosk, frames: list[bytes]) -> KioskSession:
    import time_machine
    from django.utils import timezone

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


@pytest.fixture
def pad_on(settings, models_dir):
    settings.LIVENESS_ENABLED = True
    settings.LIVENESS_CHALLENGES = ["turn_right"]  # what the clip does
    settings.PAD_ENABLED = True
    settings.PAD_THRESHOLD = 0.85
    return settings


def test_with_pad_on_the_clip_s_performer_turning_is_verified(clip_owner, kiosk, pad_on) -> None:  # noqa: F811
    session = _session(kiosk, _turn_frames(clip_owner, screen=False))
    assert (session.state, session.verified_by) == ("verified", "face")
    scores = session.liveness_state["pad_scores"]
    assert len(scores) >= 3 and min(scores) > 0.85


@pytest.fixture
def turn_only(pad_on):
    """PAD decided at the moment the head turn is met: the mouth challenge off. On the screen-textured
    frames the performer's later mouth openings are not seen (the session would stay pending), and what
    these tests show is what PAD adds to the turn."""
    pad_on.LIVENESS_MOUTH_CHALLENGE = False
    return pad_on


def test_with_pad_on_a_screen_replay_of_the_clip_is_refused(clip_owner, kiosk, turn_only) -> None:  # noqa: F811
    session = _session(kiosk, _turn_frames(clip_owner, screen=True))
    assert (session.state, session.face_failure_reason) == ("face_failed", "liveness")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LIVENESS_FAILED)
    assert event.data["reason"] == "pad_score_low"
    assert event.data["challenge"] == "turn_right"
    assert event.data["challenge_met"] == 1.0  # the head turn itself passed: a real head on the screen
    assert event.data["pad_frames"] >= 3
    assert event.data["pad_score"] < 0.85
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_DECISION, snapshots__isnull=False).exists()


def test_with_pad_off_the_same_screen_replay_is_verified(clip_owner, kiosk, turn_only) -> None:  # noqa: F811
    """What PAD adds: the landmark turn alone passes the replayed real head turn."""
    turn_only.PAD_ENABLED = False
    session = _session(kiosk, _turn_frames(clip_owner, screen=True))
    assert (session.state, session.verified_by) == ("verified", "face")
