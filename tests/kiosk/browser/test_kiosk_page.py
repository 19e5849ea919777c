"""The kiosk page end to end in headless Chromium: a real photo as the camera, the real face engine."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from accounts.models import BankAccount, Transaction
from kiosk.models import Cassette, KioskSession
from kiosk.services.credentials import kiosk_credential_rotate
from tests.factories import BankAccountFactory, CardFactory, CustomerFactory, KioskFactory, make_pan
from tests.support.faces import first_enrolment_approve

PAN = make_pan(51)


@pytest.fixture
def noisy_camera(tmp_path, faces_dir):
    """A still photo as a camera with sensor noise: the server refuses byte-identical frames as replays."""
    import numpy as np

    from tests.support import camera

    def make(photo: str):
        source = faces_dir / photo
        if not source.is_file():
            pytest.skip(f"photo {source} not found")
        boxed = camera.letterbox(camera.read_rgb(source), width=640, height=480).astype(np.int16)
        rng = np.random.default_rng(7)
        frames = (
            np.clip(boxed + rng.integers(-3, 4, boxed.shape), 0, 255).astype(np.uint8) for _ in range(15)
        )
        return camera.y4m_from_frames(frames, tmp_path / f"{source.stem}.y4m", width=640, height=480)

    return make


@pytest.fixture
def obama_card(transactional_db, faces_dir):
    from biometrics.services import enrolment_capture
    from biometrics.services.gallery_sync import gallery_reset
    from biometrics.services.verification import cache_clear

    gallery_reset()
    cache_clear()
    obama = CustomerFactory(full_name="Barack Obama")
    enrolment_capture.customer_consent_record(customer=obama, actor=None)
    photos = [faces_dir / "people" / "barack_obama" / f"obama_{n}.jpg" for n in (1, 2, 3, 4)]
    enrolment = enrolment_capture.enrolment_start(customer=obama, actor=None, photos_required=len(photos))
    for path in photos:
        enrolment_capture.enrolment_photo_add(
            enrolment=enrolment, data=path.read_bytes(), actor=None, require_pose_change=False
        )
    enrolment_capture.enrolment_submit(
        enrolment=enrolment, actor=None, allow_partial=True
    )  # encodes on commit (eager)
    first_enrolment_approve(obama)
    account = BankAccountFactory(customer=obama, balance=Decimal("500.00"))
    return CardFactory(account=account, customer=obama, pan=PAN)


def _screenshot(page, name: str) -> None:
    """KIOSK_SCREENSHOTS=<dir> keeps pictures of the screens for a person to look at (not asserted)."""
    folder = os.environ.get("KIOSK_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"))


def _enter_card(page, card) -> None:
    """A person types the card number and the expiry printed on it (MM/YY)."""
    page.fill("#card-number", PAN)
    page.fill("#card-expiry", card.expires_on.strftime("%m/%y"))
    page.click("#card-form button[type=submit]")


def _swipe_card(page, card) -> None:
    """A keyboard-wedge magnetic-stripe reader types track 2 into the focused field and presses Enter."""
    page.click("#card-number")
    page.keyboard.type(f";{PAN}={card.expires_on.strftime('%y%m')}1010000000000000?\n")


def _kiosk_page(live_server, browser, kiosk, lang: str = "en"):
    _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=None)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "kiosk_credential", "value": token, "url": live_server.url}])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server.url}/kiosk/?lang={lang}")
    return page, problems


def test_owner_verifies_by_face_and_withdraws(live_server, browser_factory, noisy_camera, obama_card):
    kiosk = KioskFactory(name="Browser kiosk", cassettes={50: 10, 20: 10, 10: 10})
    browser = browser_factory(noisy_camera("people/barack_obama/obama_5_480p.jpg"))
    page, problems = _kiosk_page(live_server, browser, kiosk)
    frame_answers: list[dict] = []
    page.on(
        "response",
        lambda response: frame_answers.append(response.json()) if "/frames/" in response.url else None,
    )
    _screenshot(page, "1-card")
    _swipe_card(page, obama_card)
    page.wait_for_selector('[data-screen="face"]:not([hidden])', timeout=10_000)
    _screenshot(page, "2-face")
    # The server verifies after K matching frames; the page then shows the menu with the name and the match.
    page.wait_for_selector('[data-screen="menu"]:not([hidden])', timeout=30_000)
    session = KioskSession.objects.get(kiosk=kiosk)
    assert (session.state, session.verified_by) == ("verified", "face")
    assert session.frames_seen >= 3
    welcome = page.inner_text("#menu-welcome")
    assert "Barack" in welcome and "authorised" in welcome and "%" in welcome
    # Nothing about the owner before the decision: every frame answer before the verifying one carries no
    # name and no score (the screen only shows what these answers carry).
    before = [answer for answer in frame_answers if answer.get("outcome") != "verified"]
    assert before, frame_answers
    assert all("Barack" not in str(answer) and answer.get("match_percent") is None for answer in before)
    _screenshot(page, "3-menu")
    page.click('[data-action="show-withdraw"]')
    page.click("#presets button >> text=/^€50$/")  # Intl money in English
    page.wait_for_selector('[data-screen="result"]:not([hidden])', timeout=10_000)
    _screenshot(page, "4-receipt")
    receipt = page.inner_text("#result-body")
    assert "50" in receipt and "450" in receipt
    assert Transaction.objects.filter(account=obama_card.account, kind="withdrawal").count() == 1
    assert BankAccount.objects.get(pk=obama_card.account_id).balance == Decimal("450.00")
    assert Cassette.objects.get(kiosk=kiosk, denomination=50).count == 9
    page.click('[data-screen="result"] [data-action="end"]')
    page.wait_for_selector('[data-screen="message"]:not([hidden])', timeout=10_000)
    assert KioskSession.objects.get(kiosk=kiosk).state == "ended"
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


def test_two_people_are_refused_in_russian(live_server, browser_factory, noisy_camera, obama_card):
    kiosk = KioskFactory(name="Browser kiosk 2")
    browser = browser_factory(noisy_camera("scenes/obama_and_biden.jpg"))
    page, problems = _kiosk_page(live_server, browser, kiosk, lang="ru")
    assert "Введите номер карты" in page.inner_text('[data-screen="card"]')
    _enter_card(page, obama_card)
    page.wait_for_selector('[data-screen="otp-offer"]:not([hidden])', timeout=30_000)
    assert "Перед камерой было больше одного человека" in page.inner_text("#failure-message")
    _screenshot(page, "5-otp-offer-ru")
    session = KioskSession.objects.get(kiosk=kiosk)
    assert (session.state, session.face_failure_reason) == ("face_failed", "several_faces")
    assert not [p for p in problems if "Content Security Policy" in p], problems


def _otp_through(page, phone: str) -> None:
    """Ask for the code, read it from the test sender's outbox (never from the page), type it."""
    import re

    from notifications.senders import TestSender

    TestSender.outbox.clear()
    page.click('[data-screen="otp-offer"] [data-action="otp-request"]')
    page.wait_for_selector('[data-screen="otp"]:not([hidden])', timeout=15_000)
    assert len(TestSender.outbox) == 1 and TestSender.outbox[0].phone == phone
    code = re.search(r"\b(\d{6})\b", TestSender.outbox[0].body).group(1)
    assert code not in page.content()
    page.fill("#otp-code", code)
    page.click("#otp-form button[type=submit]")
    page.wait_for_selector('[data-screen="menu"]:not([hidden])', timeout=15_000)


def test_with_liveness_on_a_still_photo_is_refused_and_the_otp_lets_the_owner_through(
    live_server, browser_factory, noisy_camera, obama_card, settings
):
    from audit.models import AuditEvent, AuditSnapshot

    settings.LIVENESS_ENABLED = True
    settings.LIVENESS_TIME_LIMIT_S = 3.0
    kiosk = KioskFactory(name="Browser kiosk 3")
    browser = browser_factory(noisy_camera("people/barack_obama/obama_5_480p.jpg"))
    page, problems = _kiosk_page(live_server, browser, kiosk)
    _enter_card(page, obama_card)
    page.wait_for_selector("#face-challenge:not([hidden])", timeout=15_000)
    assert "turn your head" in page.inner_text("#face-challenge")
    page.wait_for_selector('[data-screen="otp-offer"]:not([hidden])', timeout=30_000)
    session = KioskSession.objects.get(kiosk=kiosk)
    assert (session.state, session.face_failure_reason) == ("face_failed", "liveness")
    assert session.verified_at is None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LIVENESS_FAILED).count() == 1
    assert AuditSnapshot.objects.filter(event__kiosk_id=kiosk.pk).count() == 1
    _otp_through(page, obama_card.customer.phone)
    assert KioskSession.objects.get(kiosk=kiosk).verified_by == "otp"
    assert not [p for p in problems if "Content Security Policy" in p], problems


def test_an_unenrolled_face_is_no_match_with_a_snapshot_then_otp(
    live_server, browser_factory, noisy_camera, obama_card, settings
):
    from audit.models import AuditSnapshot

    settings.KIOSK_FACE_TIMEOUT_S = 4
    kiosk = KioskFactory(name="Browser kiosk 4")
    browser = browser_factory(noisy_camera("people/kit_harington/kit_2.jpg"))
    page, _problems = _kiosk_page(live_server, browser, kiosk)
    _enter_card(page, obama_card)
    page.wait_for_selector('[data-screen="otp-offer"]:not([hidden])', timeout=30_000)
    session = KioskSession.objects.get(kiosk=kiosk)
    assert (session.state, session.face_failure_reason) == ("face_failed", "no_match")
    assert AuditSnapshot.objects.filter(event__kiosk_id=kiosk.pk).count() == 1
    _otp_through(page, obama_card.customer.phone)
