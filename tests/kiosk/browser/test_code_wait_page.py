"""Issue 20, item 4 in the browser: while a frame awaits its 1:N naming (the matcher slow), the code request
says "please wait" on the code offer screen, sends nothing, and a later tap gets the code once named."""

from __future__ import annotations

import os

import pytest

from biometrics.matcher import Nearest
from kiosk.models import DeferredNaming, KioskSession
from kiosk.services.credentials import kiosk_credential_rotate
from notifications.senders import TestSender
from tests.factories import KioskFactory

from .test_kiosk_page import _enter_card, noisy_camera, obama_card  # noqa: F401 - fixtures

WAIT = {"en": "We are still checking", "ru": "Проверка ещё идёт"}


@pytest.mark.parametrize(("lang", "width", "height"), [("en", 1024, 768), ("ru", 1080, 1920)])
def test_the_code_offer_waits_for_the_naming_of_an_unnamed_face(
    live_server,
    browser_factory,
    noisy_camera,  # noqa: F811
    obama_card,  # noqa: F811
    settings,
    monkeypatch,
    lang,
    width,
    height,
):
    from biometrics.services import verification
    from kiosk import tasks

    settings.KIOSK_FACE_TIMEOUT_S = 4
    monkeypatch.setattr(  # the matcher does not answer in time at the frame
        verification,
        "match_nearest",
        lambda **kwargs: Nearest(None, None, 2, 0, reason="timeout"),
    )
    monkeypatch.setattr(tasks.deferred_naming_resolve_task, "delay", lambda deferral_id: None)  # still away
    kiosk = KioskFactory(name=f"Browser kiosk wait {lang}")
    _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=None)
    browser = browser_factory(noisy_camera("people/kit_harington/kit_2.jpg"))
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies([{"name": "kiosk_credential", "value": token, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/kiosk/?lang={lang}")
    TestSender.outbox.clear()
    _enter_card(page, obama_card)
    page.wait_for_selector('[data-screen="otp-offer"]:not([hidden])', timeout=30_000)
    assert DeferredNaming.objects.filter(outcome="pending").exists()
    page.click('[data-screen="otp-offer"] [data-action="otp-request"]')
    page.get_by_text(WAIT[lang]).first.wait_for(timeout=10_000)  # the page's CSP forbids evaluated scripts
    folder = os.environ.get("KIOSK_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"otp-wait-{lang}-{width}x{height}.png"))
    assert TestSender.outbox == []
    assert KioskSession.objects.get(kiosk=kiosk).state == "face_failed"
