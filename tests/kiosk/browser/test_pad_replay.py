"""Passive liveness (PAD) in the kiosk page end to end: headless Chromium, the real face engine and the real
MiniFASNet models. The shared clip's performer turns his head as asked and is let in; the same clip replayed
on a screen (a synthetic rendering: sub-pixel grid and moire, display gamma, glare) makes the same turn and
is refused on its texture alone.

Both cameras are built to be deterministic (tests/support/replay_camera.py): the performer is enrolled from
the frames Chromium delivers, the challenge is fixed to the clip's turn (to the performer's right), and the
camera holds still before and after the turn, so how fast the server samples the camera does not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from biometrics.liveness import LivenessConfig, pad_aggregate
from kiosk.models import KioskSession
from kiosk.services.credentials import kiosk_credential_rotate
from tests.factories import BankAccountFactory, CardFactory, CustomerFactory, KioskFactory, make_pan
from tests.support import environment, replay_camera

PAN = make_pan(61)
DECISION_TIMEOUT_MS = 60_000


class TurnCameras:
    def __init__(self, folder: Path) -> None:
        clip = environment.faces_dir() / replay_camera.CLIP
        if not clip.is_file():
            environment.unavailable(f"clip {clip} not found (ATM_FACES_DIR)")
        timeline = replay_camera.clip_turn(clip)
        self.genuine = replay_camera.y4m_write(timeline, folder / "performer.y4m", replayed=False)
        self.replayed = replay_camera.y4m_write(timeline, folder / "performer-on-a-screen.y4m", replayed=True)
        self.encodings = replay_camera.performer_encodings(self.genuine, timeline)


@pytest.fixture(scope="module")
def turn_cameras(tmp_path_factory: pytest.TempPathFactory) -> TurnCameras:
    return TurnCameras(tmp_path_factory.mktemp("pad-camera"))


@pytest.fixture
def pad_on(settings: Any) -> None:
    """The production fusion with the models shipped: liveness and PAD on, the clip's turn asked for."""
    settings.LIVENESS_ENABLED = True
    settings.PAD_ENABLED = True
    settings.LIVENESS_CHALLENGES = ["turn_right"]
    settings.LIVENESS_TIME_LIMIT_S = 15.0
    settings.KIOSK_FACE_TIMEOUT_S = 30


@pytest.fixture
def performer_card(transactional_db: None, turn_cameras: TurnCameras) -> Any:
    from biometrics.services.gallery_sync import gallery_reset
    from biometrics.services.verification import cache_clear
    from tests.support.faces import active_templates_of

    gallery_reset()
    cache_clear()
    performer = CustomerFactory(full_name="Stage Performer")
    active_templates_of(performer, turn_cameras.encodings)
    account = BankAccountFactory(customer=performer, balance=Decimal("300.00"))
    return CardFactory(account=account, customer=performer, pan=PAN)


@pytest.fixture
def frames_seen(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every frame verdict the live server (a thread of this process) reached, for the failure messages."""
    from biometrics.liveness import head_yaw
    from kiosk.services import face

    seen: list[dict[str, Any]] = []
    verify: Callable[..., Any] = face.frame_verify

    def recording(**kwargs: Any) -> Any:
        verdict = verify(**kwargs)
        yaw = head_yaw(np.asarray(verdict.landmarks)) if verdict.landmarks else None
        seen.append(
            {
                "outcome": verdict.outcome,
                "distance": verdict.distance,
                "pad": verdict.pad_score,
                "yaw": None if yaw is None else round(yaw, 1),
            }
        )
        return verdict

    monkeypatch.setattr(face, "frame_verify", recording)
    return seen


def _face_check(live_server: Any, browser: Any, card: Any, *, kiosk_name: str) -> tuple[Any, KioskSession]:
    """Present the card at a new kiosk, face the camera until the page shows the decision (the menu, or
    the offer of a one-time code); the page and the session it decided."""
    kiosk = KioskFactory(name=kiosk_name)
    _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=None)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "kiosk_credential", "value": token, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/kiosk/?lang=en")
    page.fill("#card-number", PAN)
    page.fill("#card-expiry", card.expires_on.strftime("%m/%y"))
    page.click("#card-form button[type=submit]")
    page.wait_for_selector("#face-challenge:not([hidden])", timeout=15_000)
    assert "right" in page.inner_text("#face-challenge")
    page.wait_for_selector(
        '[data-screen="menu"]:not([hidden]), [data-screen="otp-offer"]:not([hidden])',
        timeout=DECISION_TIMEOUT_MS,
    )
    return page, KioskSession.objects.get(kiosk=kiosk)


def test_the_clip_s_performer_turning_as_asked_is_verified(
    live_server, browser_factory, turn_cameras, performer_card, pad_on, frames_seen, settings
):
    from audit.models import AuditEvent, AuditSnapshot

    browser = browser_factory(turn_cameras.genuine)
    page, session = _face_check(live_server, browser, performer_card, kiosk_name="PAD kiosk, live")

    assert (session.state, session.verified_by) == ("verified", "face"), (
        session.face_failure_reason,
        str(
            list(
                AuditEvent.objects.filter(kind=AuditEvent.Kind.LIVENESS_FAILED).values_list("data", flat=True)
            )
        ),
        str(frames_seen),
    )
    assert "authorised" in page.inner_text("#menu-welcome")
    pad_scores = [frame["pad"] for frame in frames_seen if frame["outcome"] == "match"]
    # Every real frame scores well above chance (the model README: all real frames above 0.5), and the
    # session's aggregate, the product's rule, reaches the threshold; one frame may dip below it.
    assert len(pad_scores) >= 3 and min(pad_scores) > 0.5, frames_seen
    assert pad_aggregate(pad_scores, trim=LivenessConfig().pad_trim) >= settings.PAD_THRESHOLD, frames_seen
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.LIVENESS_FAILED).exists()
    assert not AuditSnapshot.objects.exists()


def test_the_same_clip_replayed_on_a_screen_is_refused_on_its_texture(
    live_server, browser_factory, turn_cameras, performer_card, pad_on, frames_seen, settings
):
    from audit.models import AuditEvent, AuditSnapshot

    # What PAD refuses at the moment the turn is met: the mouth challenge off (on the screen rendering dlib
    # misses the open-mouth frame, so the session would only time out, which says nothing about PAD).
    settings.LIVENESS_MOUTH_CHALLENGE = False

    browser = browser_factory(turn_cameras.replayed)
    _page, session = _face_check(live_server, browser, performer_card, kiosk_name="PAD kiosk, screen")

    assert (session.state, session.face_failure_reason) == ("face_failed", "liveness"), frames_seen
    assert session.verified_at is None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LIVENESS_FAILED, kiosk_id=session.kiosk_id)
    # The head turn was done (the replay carries the performer's real movement); the texture refused it.
    assert (event.data["reason"], event.data["challenge"]) == ("pad_score_low", "turn_right"), event.data
    assert event.data["challenge_met"] == 1.0, event.data
    assert event.data["turn_frames"] >= LivenessConfig().parallax_min_frames, event.data
    assert event.data["pad_frames"] >= 3 and event.data["pad_score"] < 0.85, event.data
    snapshot = AuditSnapshot.objects.get(event__kiosk_id=session.kiosk_id)
    assert (snapshot.event.kind, snapshot.event.data["shown_reason"]) == (
        AuditEvent.Kind.FACE_DECISION,
        "liveness",
    )
    # Every frame with a face matched the owner: the refusal is the texture's, not the face's.
    outcomes = {frame["outcome"] for frame in frames_seen}
    assert "match" in outcomes and not outcomes & {"no_match", "mismatch"}, frames_seen
