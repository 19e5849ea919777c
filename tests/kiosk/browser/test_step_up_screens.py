"""The step-up screens (issue 21, item 3) at every kiosk display, in English and Russian: a withdrawal above
FACE_STEP_UP_AMOUNT lands on the code offer with one plain sentence, and a grey-zone face does too."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from kiosk.services import face
from tests.factories import BankAccountFactory, CardFactory, CustomerFactory, KioskFactory
from tests.kiosk.browser.test_kiosk_screens import (
    FACE_BOX,
    PAN,
    _open_kiosk,
    _present_card,
)
from tests.kiosk.browser.test_kiosk_screens import screens_browser as _screens_browser_fixture

screens_browser = _screens_browser_fixture  # the module's one camera browser, shared fixture

SENTENCES = {
    "en": ("For an amount this large", "not recognised clearly enough"),
    "ru": ("Для такой крупной суммы", "недостаточно уверенно"),
}

TITLES = {"en": "Please confirm with a code", "ru": "Подтвердите вход кодом"}


@pytest.fixture
def scored_face(face_script, monkeypatch):
    """One centred face that matches with a settable distance."""
    scripted = face_script.verify
    face_script.distance = 0.2

    def verify(*, customer_id: int, image: Any) -> Any:
        verdict = scripted(customer_id=customer_id, image=image)
        return replace(verdict, boxes=[dict(FACE_BOX) for _ in verdict.boxes], distance=face_script.distance)

    monkeypatch.setattr(face, "frame_verify", verify)
    return face_script


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_step_up_screens_fit_every_display(
    transactional_db,
    live_server,
    screens_browser,
    scored_face,
    settings,
    lang,
):
    settings.LIVENESS_ENABLED = False
    settings.FACE_STEP_UP_AMOUNT = 100
    customer = CustomerFactory(full_name="Вера Screens" if lang == "ru" else "Vera Screens")
    account = BankAccountFactory(customer=customer, balance=Decimal("500.00"))
    card = CardFactory(account=account, customer=customer, pan=PAN)
    screens = _open_kiosk(live_server, screens_browser, KioskFactory(name="Screens kiosk"), lang)
    page = screens.page
    amount_sentence, grey_sentence = SENTENCES[lang]

    screens.visible("card")
    _present_card(screens, card)
    screens.visible("menu")
    page.click('[data-action="show-withdraw"]')
    screens.visible("withdraw")
    page.fill("#withdraw-amount", "200")
    page.click("#withdraw-form button[type=submit]")
    screens.visible("otp-offer")
    assert amount_sentence in page.inner_text("#failure-message")
    assert page.inner_text("#otp-offer-title") == TITLES[lang]
    screens.check("20-step-up-amount")

    page.click('[data-screen="otp-offer"] [data-action="cancel"]')
    screens.visible("message")
    page.click('[data-screen="message"] [data-action="restart"]')
    scored_face.distance = 0.48  # every frame matches, the median is within 10 % of the threshold
    screens.visible("card")
    _present_card(screens, card)
    screens.visible("otp-offer")
    assert grey_sentence in page.inner_text("#failure-message")
    assert page.inner_text("#otp-offer-title") == TITLES[lang]
    screens.check("21-step-up-grey-zone")
    assert screens.server_errors == [] and screens.console_errors == []
