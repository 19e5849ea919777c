"""Issue 23 item 1: a card-less session never speaks of a card (EN and RU), and the kiosk page carries the
card-less wording of the code offer."""

from __future__ import annotations

import pytest
from django.utils import translation

from kiosk import messages
from kiosk.models import KioskSession
from kiosk.vocabulary import EndReason, FailureReason
from tests.kiosk.factories import KioskSessionFactory

pytestmark = pytest.mark.django_db

CARD_WORDS = ("card", "карт")


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(
    ("state", "failure", "end"),
    [
        (KioskSession.State.FACE_FAILED, FailureReason.NO_MATCH, ""),
        (KioskSession.State.FACE_FAILED, FailureReason.MISMATCH, ""),
        (KioskSession.State.FACE_FAILED, FailureReason.FACE_LOCKED, ""),
        (KioskSession.State.ENDED, "", EndReason.CUSTOMER),
        (KioskSession.State.ENDED, "", EndReason.MISMATCH),
        (KioskSession.State.ENDED, "", EndReason.OTP_UNAVAILABLE),
    ],
)
def test_cardless_session_messages_never_mention_a_card(language, state, failure, end):
    session = KioskSessionFactory(cardless=True, state=state, face_failure_reason=failure, end_reason=end)
    with translation.override(language):
        text = messages.session_message(session).lower()
    assert text and not any(word in text for word in CARD_WORDS), text


def test_a_card_session_still_says_take_your_card():
    session = KioskSessionFactory(state=KioskSession.State.ENDED, end_reason=EndReason.CUSTOMER)
    with translation.override("ru"):
        assert "карт" in messages.session_message(session)


def test_the_script_has_a_cardless_ending():
    from kiosk.views import _strings

    with translation.override("ru"):
        strings = _strings()
    assert "карт" not in strings["session_ended_cardless"].lower()
