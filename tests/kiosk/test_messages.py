"""One rule for what the kiosk is told about a session, whichever answer carries it (status, frame)."""

from __future__ import annotations

import pytest

from biometrics.verdicts import FaceOutcome
from kiosk import messages
from kiosk.models import KioskSession
from kiosk.selectors import owner_first_name_disclosed, session_view
from kiosk.services.sessions import timeout_failure_reason
from kiosk.vocabulary import EndReason, FailureReason, as_stranger
from tests.kiosk.factories import KioskSessionFactory

pytestmark = pytest.mark.django_db
State = KioskSession.State


@pytest.mark.parametrize("state", [State.CARD_ENTERED, State.FACE_PENDING, State.OTP_SENT])
def test_nothing_is_said_or_disclosed_before_the_decision(alice_card, state):
    session = KioskSessionFactory(card=alice_card, state=state, verified_at=None, verified_by="")
    view = session_view(session)
    assert (view["message"], view["first_name"]) == ("", "")
    assert owner_first_name_disclosed(session) == ""


def test_a_verified_session_discloses_the_first_name(alice_card):
    session = KioskSessionFactory(card=alice_card, state=State.VERIFIED)
    assert session_view(session)["first_name"] == "Alice"


def test_a_failed_check_says_why_and_a_mismatch_reads_as_a_strangers_face(alice_card):
    session = KioskSessionFactory(
        card=alice_card, state=State.FACE_FAILED, face_failure_reason=FailureReason.MISMATCH
    )
    view = session_view(session)
    assert view["face_failure_reason"] == FailureReason.NO_MATCH
    assert view["message"] == str(messages.FAILURE_MESSAGES[FailureReason.NO_MATCH])


def test_an_ended_session_says_why_it_ended_before_why_the_face_check_failed(alice_card):
    session = KioskSessionFactory(
        card=alice_card,
        state=State.ENDED,
        face_failure_reason=FailureReason.NO_MATCH,
        end_reason=EndReason.CUSTOMER,
    )
    assert messages.session_message(session) == str(messages.END_MESSAGES[EndReason.CUSTOMER])
    assert messages.session_ended_message(session) == messages.session_message(session)
    session.end_reason = ""
    assert messages.session_message(session) == str(messages.FAILURE_MESSAGES[FailureReason.NO_MATCH])


def test_the_stranger_rule_is_one_function_for_outcomes_failures_and_end_reasons():
    # as_stranger compares values: the three vocabularies must keep spelling the mismatch alike.
    assert FaceOutcome.MISMATCH == FailureReason.MISMATCH == EndReason.MISMATCH
    assert as_stranger(FaceOutcome.MISMATCH) == FaceOutcome.NO_MATCH
    assert as_stranger(FailureReason.MISMATCH) == FailureReason.NO_MATCH
    assert as_stranger(EndReason.MISMATCH) == FailureReason.NO_MATCH
    for other in [*FaceOutcome, *FailureReason, *EndReason]:
        if other != FaceOutcome.MISMATCH:
            assert as_stranger(other) == other
    # The liveness feed and the face deadline read another customer's face as a stranger's too.
    assert timeout_failure_reason(FaceOutcome.MISMATCH) == timeout_failure_reason(FaceOutcome.NO_MATCH)


@pytest.mark.parametrize("cardless", [False, True])
def test_a_session_ended_on_another_customers_face_says_what_a_strangers_would(alice_card, cardless):
    fields = {"cardless": True, "account": alice_card.account} if cardless else {"card": alice_card}
    session = KioskSessionFactory(state=State.ENDED, end_reason=EndReason.MISMATCH, **fields)
    stranger = messages.CARDLESS_FAILURE_MESSAGES if cardless else messages.FAILURE_MESSAGES
    assert messages.session_message(session) == str(stranger[FailureReason.NO_MATCH])
