"""Issue 21, item 3: a session is decided on its aggregated score; unsure ones and large amounts step up."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from audit.models import AuditEvent
from biometrics.comparison import genuine_percent
from biometrics.services.verification import match_percent
from biometrics.verdicts import FrameVerdict
from kiosk.models import KioskSession
from kiosk.services import face
from tests.kiosk.conftest import FaceScript
from tests.kiosk.test_cardless import PHONE, CandidateScript, CardlessDriver

pytestmark = pytest.mark.django_db


class ScoredScript(FaceScript):
    """Matches with the given distances, one per frame (the last repeats)."""

    distances: list[float] = [0.3]

    def verify(self, *, customer_id: int, image: np.ndarray) -> FrameVerdict:
        index = min(self.calls, len(self.distances) - 1)
        verdict = super().verify(customer_id=customer_id, image=image)
        return replace(verdict, distance=self.distances[index])


@pytest.fixture
def scored(monkeypatch: pytest.MonkeyPatch, face_script: FaceScript) -> ScoredScript:
    script = ScoredScript()
    monkeypatch.setattr(face, "frame_verify", script.verify)
    return script


def test_grey_zone_session_offers_the_code_on_the_card_path(driver, alice_card, alice_pan, scored, outbox):
    scored.distances = [0.48, 0.47, 0.49]  # every frame matches (≤ 0.50), median 0.48: within 10 % of 0.50
    driver.start(alice_pan)
    for _ in range(3):
        assert driver.frame().status_code == 200
    assert driver.session["state"] == "face_failed"
    assert "code sent to your phone" in driver.session["message"]
    session = KioskSession.objects.get(public_id=driver.sid)
    assert session.face_score == 0.48 and session.verified_by == ""
    step = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_STEP_UP)
    assert {**step.data, "session": ""} == {
        "why": "grey_zone",
        "action": "code_offered",
        "score": 0.48,
        "threshold": 0.5,
        "session": "",
    }
    decision = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_DECISION)
    assert decision.outcome == AuditEvent.Outcome.FAILURE and decision.data["score"] == 0.48
    assert driver.post("otp").status_code == 200
    code = re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)
    assert driver.post("otp/verify", {"code": code}).json()["state"] == "verified"


def test_clear_match_is_verified_by_the_face_with_its_score_audited(driver, alice_card, alice_pan, scored):
    scored.distances = [0.2, 0.46, 0.25]  # one frame near the threshold; the median (0.25) is clear
    driver.start(alice_pan)
    driver.verify_face(3)
    session = KioskSession.objects.get(public_id=driver.sid)
    assert (session.verified_by, session.face_score) == ("face", 0.25)
    decision = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_DECISION)
    assert decision.outcome == AuditEvent.Outcome.SUCCESS and decision.data["score"] == 0.25
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_STEP_UP).exists()
    assert driver.session["state"] == "verified"


def test_grey_zone_session_is_refused_card_less(api, outbox, monkeypatch, face_script) -> None:
    from tests.factories import CustomerFactory
    from tests.kiosk.test_cardless import opted_in

    opted_in(CustomerFactory(full_name="Carol Cardless", phone=PHONE))
    script = CandidateScript()
    monkeypatch.setattr(face, "frame_verify", script.verify)

    def grey(*, customer_ids: list[int], image: np.ndarray) -> FrameVerdict:
        return replace(script.verify_candidates(customer_ids=customer_ids, image=image), distance=0.48)

    monkeypatch.setattr(face, "frame_verify_candidates", grey)
    cd = CardlessDriver(api)
    assert cd.start_phone(PHONE).status_code == 201
    cd.face_frames(3)
    assert cd.session["state"] == "face_failed"
    assert "please use your card" in cd.session["message"]
    step = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_STEP_UP)
    assert step.data["action"] == "refused" and step.data["score"] == 0.48
    refused = cd.post("otp")
    assert (refused.status_code, refused.json()["code"]) == (403, "otp_unavailable")
    assert outbox == []


def test_withdrawal_above_the_step_up_amount_asks_for_the_code(
    driver, alice_card, alice_pan, scored, outbox, settings
) -> None:
    settings.FACE_STEP_UP_AMOUNT = 100
    alice_card.account.balance = Decimal("1000.00")
    alice_card.account.save(update_fields=["balance"])
    driver.start(alice_pan)
    driver.verify_face(3)
    small = driver.post("withdrawals", {"amount": "100", "idempotency_key": "step-up-0001"})
    assert small.status_code == 201, small.json()
    large = driver.post("withdrawals", {"amount": "200", "idempotency_key": "step-up-0002"})
    assert (large.status_code, large.json()["code"]) == (403, "step_up_required")
    assert "one-time code" in large.json()["detail"]
    step = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_STEP_UP)
    figures = (step.data["why"], step.data["amount"], step.data["limit"], step.data["score"])
    assert figures == ("amount", 200, 100, 0.3)
    assert driver.status().json()["state"] == "face_failed"
    assert driver.post("otp").status_code == 200
    code = re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)
    assert driver.post("otp/verify", {"code": code}).json()["state"] == "verified"
    paid = driver.post("withdrawals", {"amount": "200", "idempotency_key": "step-up-0002"})
    assert paid.status_code == 201, paid.json()


def test_match_percentage_is_calibrated_on_genuine_comparisons() -> None:
    # The median genuine comparison (0.7073 of the threshold) reads 50 %; clearer matches read high.
    assert genuine_percent(0.0) == 100
    assert genuine_percent(0.4942) == 95
    assert genuine_percent(0.6242) == 75
    assert genuine_percent(0.7073) == 50
    assert genuine_percent(0.96) == 5
    assert genuine_percent(1.5) == 0
    # On the kiosk's distance scale (threshold 0.50): a clear genuine session at 0.15 reads ≥ 90 %.
    assert match_percent(0.15) >= 90
    assert match_percent(0.5) < 10
