"""The kiosk session's vocabulary: why a face check failed, why a session ended, what verified it.

Stored on `KioskSession` (choices) and passed between the kiosk services as enum members, never bare strings.
What the kiosk is told about each is worded in kiosk.messages.
"""

from __future__ import annotations

from django.db import models


class FailureReason(models.TextChoices):
    """Why the face check failed. The kiosk is never told MISMATCH: it reads as NO_MATCH."""

    TIMEOUT = "timeout", "Timed out"
    NO_MATCH = "no_match", "Face not matched"
    MISMATCH = "mismatch", "Another enrolled customer's face"
    LOW_QUALITY = "low_quality", "Face too small or blurred"
    SEVERAL_FACES = "several_faces", "Several faces"
    FACE_LOCKED = "face_locked", "Face check locked"
    NOT_ENROLLED = "not_enrolled", "No face enrolled"
    LIVENESS = "liveness", "Liveness failed"
    GREY_ZONE = "grey_zone", "Face match too close to the threshold"
    STEP_UP = "step_up", "Code needed for a large withdrawal"


class EndReason(models.TextChoices):
    CUSTOMER = "customer", "Ended by the customer"
    IDLE_TIMEOUT = "idle_timeout", "Idle timeout"
    SESSION_TIMEOUT = "session_timeout", "Session time limit"
    REPLACED = "replaced", "Replaced by a new session"
    MISMATCH = "mismatch", "Another enrolled customer's face"
    CARD_BLOCKED = "card_blocked", "Card blocked"
    OTP_UNAVAILABLE = "otp_unavailable", "No one-time code available"
    CARDLESS_DISABLED = "cardless_disabled", "Card-less use disabled"


class VerifiedBy(models.TextChoices):
    FACE = "face", "Face"
    OTP = "otp", "One-time code"


def as_stranger(reason: str) -> str:
    """The one place of the rule "a mismatch reads as a stranger": another enrolled customer's face is told
    to the kiosk, fed to liveness and timed out exactly as an unknown face, so no answer tells them apart.

    Takes a FaceOutcome, FailureReason or EndReason value (all three spell the mismatch "mismatch"); the
    mismatch comes back as "no_match" (FaceOutcome.NO_MATCH, FailureReason.NO_MATCH), anything else as it was.
    """
    return FailureReason.NO_MATCH if reason == FailureReason.MISMATCH else reason
