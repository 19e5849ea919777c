"""Every kiosk screen in English and Russian; server reasons follow the customer's language."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from kiosk.services.credentials import kiosk_provisioning_code_create
from tests.kiosk.conftest import card_expiry_of, jpeg_frame

pytestmark = pytest.mark.django_db


@pytest.fixture
def kiosk_browser(kiosk) -> Client:
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    browser = Client()
    browser.post("/kiosk/provision/", {"code": raw})
    return browser


def test_english_page(kiosk_browser):
    html = kiosk_browser.get("/kiosk/?lang=en").content.decode()
    assert "Enter your card number" in html
    assert "Withdraw cash" in html
    assert 'src="/static/kiosk/kiosk.js"' in html
    assert "<script>" not in html  # CSP 'self': no inline script (json_script blocks are data, not code)


def test_russian_page_and_reasons(kiosk_browser, alice_card, alice_pan, face_script):
    response = kiosk_browser.get("/kiosk/?lang=ru")
    html = response.content.decode()
    assert '<html lang="ru">' in html
    for text in (
        "Введите номер карты",
        "Снять наличные",
        "Посмотрите в камеру",
        "Мини-выписка",
        "Завершить сеанс",
    ):
        assert text in html
    assert "Enter your card number" not in html
    assert "Проверяем ваше лицо" in html  # strings for the script, passed through json_script
    assert response.cookies["django_language"].value == "ru"
    # The API answers in the language the page chose.
    refused = kiosk_browser.post(
        "/api/kiosk/sessions/", {"card_number": "1234", "expiry": "12/30"}, content_type="application/json"
    )
    assert refused.json()["detail"] == "Это неверный номер карты."
    face_script.enrolled = False
    started = kiosk_browser.post(
        "/api/kiosk/sessions/",
        {"card_number": alice_pan, "expiry": card_expiry_of(alice_pan)},
        content_type="application/json",
    )
    assert started.json()["message"] == "Для этой карты не зарегистрировано лицо."
    sid = started.json()["id"]
    wrong = kiosk_browser.post(
        f"/api/kiosk/sessions/{sid}/otp/verify/", {"code": "12"}, content_type="application/json"
    )
    assert wrong.json()["detail"] == "Введите 6-значный код."


def test_demo_cards_only_with_debug(kiosk_browser, settings):
    from accounts.demo import DEMO_CUSTOMERS
    from tests.factories import CardFactory

    CardFactory(pan=DEMO_CUSTOMERS[0].pan)  # a seeded demo card: the button needs its expiry
    settings.DEBUG = False
    assert DEMO_CUSTOMERS[0].pan not in kiosk_browser.get("/kiosk/").content.decode()
    settings.DEBUG = True
    assert DEMO_CUSTOMERS[0].pan in kiosk_browser.get("/kiosk/").content.decode()


def test_card_read_refusal_and_frame_hint_in_russian(kiosk_browser, alice_card, alice_pan, face_script):
    kiosk_browser.get("/kiosk/?lang=ru")
    refused = kiosk_browser.post(
        "/api/kiosk/sessions/", {"card_number": alice_pan}, content_type="application/json"
    )
    assert refused.json()["detail"].startswith("Не удалось прочитать карту.")
    face_script.play("low_quality")
    started = kiosk_browser.post(
        "/api/kiosk/sessions/",
        {"card_number": alice_pan, "expiry": card_expiry_of(alice_pan)},
        content_type="application/json",
    ).json()
    upload = io.BytesIO(jpeg_frame())
    upload.name = "frame.jpg"
    frame = kiosk_browser.post(
        f"/api/kiosk/sessions/{started['id']}/frames/",
        {"frame": upload, "nonce": started["frame_nonce"], "seq": 1},
    ).json()
    assert (frame["hint"], frame["message"]) == ("move_closer", "Подойдите ближе к камере.")
