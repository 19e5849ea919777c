"""The kiosk's only doors into biometrics.

Tests replace these functions with monkeypatch (`kiosk.services.face.frame_verify`), so the state machine is
tested without the face engine. Only the verdict types (`biometrics.verdicts`) are imported up front; the
biometrics services (and the dlib models behind them) load on first use.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

from atmsite.errors import ApplicationError
from biometrics.model_files import feature_active
from biometrics.verdicts import FaceOutcome, FrameVerdict
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from biometrics.liveness import LivenessConfig
    from biometrics.matcher import Nearest


def image_decode(data: bytes) -> np.ndarray:
    """JPEG/PNG/WebP bytes → RGB array, or a 400 with the engine's reason."""
    from biometrics import engine

    max_pixels = min(settings.IMAGE_MAX_PIXELS, settings.KIOSK_FRAME_MAX_PIXELS)
    try:
        return engine.decode_image(data, max_pixels=max_pixels)
    except engine.ImageRejected as error:
        raise ApplicationError(
            KioskError.from_code(f"frame_{error.code}"), error.message, status_code=400
        ) from None


def frame_verify(*, customer_id: int, image: np.ndarray) -> FrameVerdict:
    """biometrics.services.verification.frame_verify (card path, 1:1 with the owner; 1:N names a mismatch)."""
    from biometrics.services.verification import frame_verify as verify

    return verify(customer_id=customer_id, image=image)


def customer_has_active_templates(*, customer_id: int) -> bool:
    from biometrics.services.verification import customer_has_active_templates as has_templates

    return has_templates(customer_id=customer_id)


class LivenessStatus(enum.StrEnum):
    PASSED = "passed"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True)
class LivenessStep:
    state: dict[str, Any]
    status: LivenessStatus
    reason: str  # failure reason code, "" otherwise
    details: dict[str, float]


def liveness_config() -> LivenessConfig:
    from biometrics.liveness import LivenessConfig

    return LivenessConfig(
        time_limit_seconds=settings.LIVENESS_TIME_LIMIT_S,
        yaw_turn_degrees=settings.LIVENESS_YAW_TURN_DEGREES,
        parallax_threshold=settings.LIVENESS_PARALLAX_THRESHOLD,
        mouth_required=settings.LIVENESS_MOUTH_CHALLENGE,
        pad_enabled=feature_active("pad"),  # off in DEBUG when the model files are missing
        pad_threshold=settings.PAD_THRESHOLD,
    )


def liveness_new_state() -> dict[str, Any]:
    """A fresh challenge for a session ({} when liveness is off). Picked with `secrets`: unpredictable."""
    if not settings.LIVENESS_ENABLED:
        return {}
    from biometrics.liveness import Challenge, liveness_start

    challenge = Challenge(secrets.choice(list(settings.LIVENESS_CHALLENGES)))
    return dict(liveness_start(challenge=challenge).to_dict())


def liveness_feed(
    *,
    state: dict[str, Any],
    outcome: FaceOutcome,
    landmarks: list[list[float]] | None,
    t: float,
    fingerprint: str,
    pad_score: float | None = None,
) -> LivenessStep:
    """Fold one frame into the session's liveness state.

    Only frames whose face matched the card owner count as evidence: a frame of another (unrecognised) face
    restarts the challenge, so nobody can swap faces mid-challenge. A non-matching frame of the face being
    followed (no jump in place, size, roll or yaw: a head turned away matches less well) only moves the
    clock, so turning does not restart the turn. Frames without a usable face only move the clock. With
    liveness off every frame "passes" and the K-frame rule alone decides. With PAD on, the matching frames'
    ``pad_score`` is fused into the verdict (see ``liveness.liveness_update``).
    """
    if not settings.LIVENESS_ENABLED or not state:
        return LivenessStep(state, LivenessStatus.PASSED, "", {})
    from biometrics import liveness

    config = liveness_config()
    current = liveness.LivenessState.from_dict(state)
    points = None if landmarks is None else np.asarray(landmarks, dtype=np.float64)
    if outcome == FaceOutcome.NO_MATCH:
        if points is not None and liveness.liveness_same_track(current, points, t, config=config):
            current = liveness.liveness_update(current, None, t, fingerprint=fingerprint, config=config)
        else:
            current = liveness.liveness_start(challenge=current.challenge)
    elif outcome == FaceOutcome.MATCH:
        current = liveness.liveness_update(
            current, points, t, fingerprint=fingerprint, config=config, pad_score=pad_score
        )
    else:
        current = liveness.liveness_update(current, None, t, fingerprint=fingerprint, config=config)
    verdict = liveness.liveness_verdict(current, config=config)
    return LivenessStep(
        dict(current.to_dict()),
        LivenessStatus(str(verdict.status)),
        str(verdict.reason or ""),
        dict(verdict.details),
    )


# A turn the asked way of at least this share of LIVENESS_YAW_TURN_DEGREES, not yet enough: "a little
# further".
TURN_FURTHER_FROM = 0.3


def liveness_turn_short(state: dict[str, Any]) -> bool:
    """The head turned the asked way, but not yet far enough (or not yet long enough) for the challenge."""
    if not settings.LIVENESS_ENABLED or not state or state.get("passed_at") is not None:
        return False
    if state.get("challenge") not in ("turn_left", "turn_right"):
        return False
    return float(state.get("max_yaw_change", 0.0)) >= TURN_FURTHER_FROM * settings.LIVENESS_YAW_TURN_DEGREES


def liveness_challenge(state: dict[str, Any]) -> str:
    return str(state.get("challenge", "")) if settings.LIVENESS_ENABLED else ""


def liveness_mouth_pending(state: dict[str, Any]) -> bool:
    """The asked action is done and the mouth challenge is what is still missing (the kiosk then asks for
    the mouth instead of the turn)."""
    if not (settings.LIVENESS_ENABLED and settings.LIVENESS_MOUTH_CHALLENGE) or not state:
        return False
    if state.get("passed_at") is not None:
        return False
    from biometrics.liveness import LivenessState
    from biometrics.liveness.challenges import primary_met

    return primary_met(LivenessState.from_dict(state), liveness_config())


def frame_verify_candidates(*, customer_ids: list[int], image: np.ndarray) -> FrameVerdict:
    """biometrics.services.verification.frame_verify_candidates (card-less, 1:1 or 1:few)."""
    from biometrics.services.verification import frame_verify_candidates as verify

    return verify(customer_ids=customer_ids, image=image)


def probe_pack(probe: np.ndarray) -> str:
    from biometrics.models import encoding_pack

    return encoding_pack(probe)


def probe_unpack(text: str) -> np.ndarray:
    from biometrics.models import encoding_unpack

    return encoding_unpack(text)


def nearest_other_customer(*, probe_text: str, customer_id: int | None, deadline_s: float) -> Nearest:
    """biometrics.matcher.match_nearest for a stored probe → Nearest (never the card owner)."""
    from biometrics.matcher import match_nearest
    from biometrics.models import encoding_unpack

    return match_nearest(
        probes=encoding_unpack(probe_text), exclude_customer_id=customer_id, deadline_s=deadline_s
    )
