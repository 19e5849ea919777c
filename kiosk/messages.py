"""What the kiosk screen says, in the customer's language. The state machine decides; this module words it.

One rule for every answer (a frame, the session status, a refused step): before the decision nothing about the
owner or the match — a frame gets one hint about what the customer can do; after it, the welcome (verified) or
why the check failed or the session ended. Another enrolled customer's face (a mismatch) reads exactly like a
stranger's: the kiosk is never shown "mismatch".
"""

from __future__ import annotations

import enum

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import KioskError
from .models import KioskSession
from .vocabulary import EndReason, FailureReason, as_stranger

State = KioskSession.State
# Keyed by the enum members; looked up with the value a model field holds (a plain str).
Messages = dict[str, str | Promise]


class FrameHint(enum.StrEnum):
    """The one hint a frame gets before the decision (never how well the face matched)."""

    LOOK_AT_CAMERA = "look_at_camera"
    ONE_PERSON = "one_person"
    MOVE_CLOSER = "move_closer"
    MORE_LIGHT = "more_light"
    TURN_AS_ASKED = "turn_as_asked"
    TURN_FURTHER = "turn_further"  # the head turned the asked way, not yet far enough
    OPEN_MOUTH = "open_mouth"  # the turn is done; the mouth challenge is still missing


HINT_MESSAGES: Messages = {
    FrameHint.LOOK_AT_CAMERA: gettext_lazy("Look at the camera and hold still."),
    FrameHint.ONE_PERSON: gettext_lazy(
        "Only the card holder in front of the camera, please. Ask others to step back."
    ),
    FrameHint.MOVE_CLOSER: gettext_lazy("Move closer to the camera."),
    FrameHint.MORE_LIGHT: gettext_lazy("More light, please: face the light and hold still."),
    FrameHint.TURN_AS_ASKED: gettext_lazy("Turn your head as asked."),
    FrameHint.TURN_FURTHER: gettext_lazy("Good. Turn a little further."),
    FrameHint.OPEN_MOUTH: gettext_lazy("Good. Now open your mouth wide for a second, then close it."),
}
# Why the face check failed, as the kiosk sees it (a mismatch is shown as NO_MATCH: vocabulary.as_stranger).
FAILURE_MESSAGES: Messages = {
    FailureReason.TIMEOUT: gettext_lazy("The face check timed out."),
    FailureReason.NO_MATCH: gettext_lazy("Your face could not be matched to the card."),
    FailureReason.LOW_QUALITY: gettext_lazy("The camera could not see your face well enough."),
    FailureReason.SEVERAL_FACES: gettext_lazy("More than one person was in front of the camera."),
    FailureReason.FACE_LOCKED: gettext_lazy(
        "Face verification is locked for this card after repeated failures."
    ),
    FailureReason.NOT_ENROLLED: gettext_lazy("No face is enrolled for this card."),
    FailureReason.LIVENESS: gettext_lazy("The camera could not confirm a live person in front of it."),
    FailureReason.GREY_ZONE: gettext_lazy(
        "Your face was not recognised clearly enough, so we will confirm it with a code sent to your phone."
    ),
    FailureReason.STEP_UP: KioskError.STEP_UP_REQUIRED.message,
}
END_MESSAGES: Messages = {
    EndReason.CUSTOMER: gettext_lazy("Session ended. Take your card."),
    EndReason.IDLE_TIMEOUT: gettext_lazy("The session ended because nothing happened for a while."),
    EndReason.SESSION_TIMEOUT: gettext_lazy("The session reached its time limit."),
    EndReason.REPLACED: gettext_lazy("A new session started at this kiosk."),
    EndReason.CARD_BLOCKED: gettext_lazy("The card has been blocked. Please contact the bank."),
    EndReason.OTP_UNAVAILABLE: KioskError.OTP_UNAVAILABLE.message,
    EndReason.CARDLESS_DISABLED: KioskError.CARDLESS_DISABLED.message,
}
# Card-less sessions have no card: the same reasons, worded without one. They have no code to lean on
# either: a face too close to call is refused.
CARDLESS_FAILURE_MESSAGES: Messages = {
    FailureReason.NO_MATCH: gettext_lazy("Your face could not be matched."),
    FailureReason.GREY_ZONE: gettext_lazy(
        "Your face was not recognised clearly enough for card-less cash; please use your card."
    ),
    FailureReason.FACE_LOCKED: gettext_lazy("Face verification is locked after repeated failures."),
    FailureReason.NOT_ENROLLED: gettext_lazy("No face is enrolled for card-less cash."),
}
CARDLESS_END_MESSAGES: Messages = {
    EndReason.CUSTOMER: gettext_lazy("Session ended. Thank you."),
    EndReason.OTP_UNAVAILABLE: gettext_lazy("A one-time code cannot be sent now. Please contact the bank."),
}
CHALLENGE_TEXT: Messages = {
    "turn_left": gettext_lazy("Slowly turn your head to your left, then look back at the screen."),
    "turn_right": gettext_lazy("Slowly turn your head to your right, then look back at the screen."),
    "blink": gettext_lazy("Blink slowly."),
    # Shown once the asked action is done and the mouth challenge is still missing.
    "open_mouth": gettext_lazy("Now open your mouth wide for a second, then close it."),
}


def failure_reason_public(session: KioskSession) -> str:
    """The failure reason the kiosk is told: a mismatch reads as a stranger's face (no_match)."""
    return as_stranger(session.face_failure_reason)


def _failure_message(session: KioskSession, reason: str) -> str | Promise:
    if session.is_cardless and reason in CARDLESS_FAILURE_MESSAGES:
        return CARDLESS_FAILURE_MESSAGES[reason]
    return FAILURE_MESSAGES.get(reason, "")


def _end_message(session: KioskSession, default: str | Promise) -> str:
    if as_stranger(session.end_reason) == FailureReason.NO_MATCH:  # ended on another customer's face
        return str(_failure_message(session, FailureReason.NO_MATCH))
    if session.is_cardless and session.end_reason in CARDLESS_END_MESSAGES:
        return str(CARDLESS_END_MESSAGES[session.end_reason])
    return str(END_MESSAGES.get(session.end_reason, default))


def session_message(session: KioskSession) -> str:
    """Why the session ended, else why the face check failed; "" while nothing has been decided against it."""
    failure = _failure_message(session, failure_reason_public(session))
    if session.state == State.ENDED:
        return _end_message(session, failure)
    if session.state == State.FACE_FAILED:
        return str(failure)
    return ""


def session_ended_message(session: KioskSession) -> str:
    """The refusal of a step on an ended session: why it ended."""
    return _end_message(session, KioskError.SESSION_ENDED.message)


def welcome_message(*, first_name: str, match_percent: int | None) -> str:
    """The verified frame: now the customer may see whose card it is and how well the face matched."""
    return _("Match %(percent)d %% — authorised. Welcome, %(name)s!") % {
        "percent": match_percent or 0,
        "name": first_name,
    }


def pin_prompt() -> str:
    return str(_("Enter your PIN."))


def hint_message(hint: FrameHint) -> str:
    return str(HINT_MESSAGES[hint])


def challenge_text(challenge: str) -> str:
    return str(CHALLENGE_TEXT.get(challenge, ""))
