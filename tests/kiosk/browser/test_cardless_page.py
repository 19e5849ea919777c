"""Card-less mode end to end in headless Chromium: phone number, a real photo as the camera, PIN pad."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import BankAccount, Transaction
from audit.models import AuditEvent
from kiosk.models import CardlessAccess, KioskSession
from kiosk.services import cardless
from notifications.senders import TestSender
from tests.factories import BankAccountFactory, CustomerFactory, KioskFactory
from tests.kiosk.browser import test_kiosk_page
from tests.kiosk.browser.test_kiosk_page import _kiosk_page, _screenshot
from tests.support.faces import first_enrolment_approve

noisy_camera = test_kiosk_page.noisy_camera  # the same fixture: a still photo with sensor noise

PHONE = "+447700900051"
NATIONAL = "07700 900051"
PIN = "4821"


def _enrol(customer, faces_dir, photos: list[str]) -> None:
    from biometrics.services import enrolment_capture

    enrolment_capture.customer_consent_record(customer=customer, actor=None)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=None, photos_required=len(photos))
    for name in photos:
        enrolment_capture.enrolment_photo_add(
            enrolment=enrolment, data=(faces_dir / name).read_bytes(), actor=None, require_pose_change=False
        )
    enrolment_capture.enrolment_submit(
        enrolment=enrolment, actor=None, allow_partial=True
    )  # encodes on commit
    first_enrolment_approve(customer)


def _opt_in(customer, *, pin: str = PIN) -> CardlessAccess:
    account = BankAccountFactory(customer=customer, balance=Decimal("500.00"))
    access = cardless.cardless_opt_in(customer=customer, account=account, consent=True, actor=None)
    return cardless.cardless_pin_set(access=access, pin=pin, pin_repeat=pin, actor=None)


@pytest.fixture
def obama_cardless(transactional_db, faces_dir) -> CardlessAccess:
    from biometrics.services.gallery_sync import gallery_reset
    from biometrics.services.verification import cache_clear

    gallery_reset()
    cache_clear()
    obama = CustomerFactory(full_name="Barack Obama", phone=PHONE)
    _enrol(obama, faces_dir, [f"people/barack_obama/obama_{n}.jpg" for n in (1, 2, 3, 4)])
    return _opt_in(obama)


@pytest.fixture
def biden(obama_cardless, faces_dir):
    """Another enrolled customer (his own phone)."""
    biden = CustomerFactory(full_name="Joe Biden", phone="+447700900052")
    _enrol(biden, faces_dir, ["people/joe_biden/biden_1.jpg"])
    return biden


def _type_on_keypad(page, target: str, digits: str) -> None:
    for digit in digits:
        page.click(f'.keypad[data-target="{target}"] .key >> text="{digit}"')


def _start_cardless(page, phone: str = NATIONAL) -> None:
    page.click("#cardless-start")
    page.wait_for_selector('[data-screen="cardless-phone"]:not([hidden])')
    page.fill("#cardless-phone", phone)
    page.click("#cardless-phone-form button[type=submit]")
    page.wait_for_selector('[data-screen="face"]:not([hidden])', timeout=10_000)


def _enter_pin(page, pin: str) -> None:
    page.wait_for_selector('[data-screen="cardless-pin"]:not([hidden])', timeout=30_000)
    _type_on_keypad(page, "cardless-pin", pin)
    page.click("#cardless-pin-form button[type=submit]")


@pytest.mark.parametrize(
    ("lang", "button", "welcome"),
    [("en", "No card? Use your face", "Barack"), ("ru", "Нет карты? Войдите по лицу", "Barack")],
)
def test_cardless_withdrawal_with_phone_face_and_pin(
    live_server, browser_factory, noisy_camera, obama_cardless, lang, button, welcome
):
    kiosk = KioskFactory(name="Card-less kiosk", cassettes={50: 10, 10: 10})
    browser = browser_factory(noisy_camera("people/barack_obama/obama_5_480p.jpg"))
    page, problems = _kiosk_page(live_server, browser, kiosk, lang=lang)
    assert button in page.inner_text('[data-screen="card"]')
    _start_cardless(page)
    assert "Barack" not in page.inner_text('[data-screen="face"]')
    page.wait_for_selector('[data-screen="cardless-pin"]:not([hidden])', timeout=30_000)
    _screenshot(page, f"cardless-pin-{lang}")
    assert "Barack" not in page.inner_text('[data-screen="cardless-pin"]')  # still nothing before the PIN
    _enter_pin(page, PIN)
    page.wait_for_selector('[data-screen="menu"]:not([hidden])', timeout=10_000)
    assert welcome in page.inner_text("#menu-welcome")
    page.click('[data-action="show-withdraw"]')
    page.click(r"#presets button >> text=/^(€50|50\s€)$/")  # the page's language formats money
    page.wait_for_selector('[data-screen="result"]:not([hidden])', timeout=10_000)
    assert "450" in page.inner_text("#result-body")
    entry = Transaction.objects.get(account=obama_cardless.account, kind="withdrawal")
    assert entry.card is None and entry.details["mode"] == "cardless"
    assert BankAccount.objects.get(pk=obama_cardless.account_id).balance == Decimal("450.00")
    session = KioskSession.objects.get(kiosk=kiosk)
    assert (session.mode, session.customer_id) == ("cardless", obama_cardless.customer_id)
    assert not [p for p in problems if "Content Security Policy" in p], problems
    _cardless_deposit_receipt_has_no_stray_dot(page, kiosk)


def _cardless_deposit_receipt_has_no_stray_dot(page, kiosk) -> None:
    """Issue 23: no card, so no masked number: the deposit receipt line must not start with a stray "·"."""
    from tests.kiosk.conftest import CashInModule

    page.click('[data-screen="result"] [data-action="menu"]')
    module = CashInModule(kiosk)
    page.click('[data-action="show-deposit"]')
    page.wait_for_selector('[data-screen="deposit"]:not([hidden])', timeout=10_000)
    assert module.report({"50": 1}, "cardless-dep-01").status_code == 201
    page.wait_for_selector('[data-screen="escrow"]:not([hidden])', timeout=15_000)
    page.click('[data-action="deposit-confirm"]')
    page.wait_for_selector('[data-screen="result"]:not([hidden])', timeout=10_000)
    lines = [line.strip() for line in page.locator("#result-body .receipt__row").all_inner_texts()]
    assert any("Card-less kiosk" in line for line in lines), lines
    assert not [line for line in lines if line.startswith("·")], lines


def test_three_wrong_pins_disable_cardless_and_notify_the_owner(
    live_server, browser_factory, noisy_camera, obama_cardless
):
    kiosk = KioskFactory(name="Card-less kiosk", cassettes={50: 10})
    browser = browser_factory(noisy_camera("people/barack_obama/obama_5_480p.jpg"))
    page, _problems = _kiosk_page(live_server, browser, kiosk)
    TestSender.outbox.clear()
    _start_cardless(page)
    for wrong in ("1111", "2580", "9999"):
        _enter_pin(page, wrong)
        page.wait_for_timeout(400)
    page.wait_for_selector('[data-screen="message"]:not([hidden])', timeout=10_000)
    assert "disabled" in page.inner_text("#message-body")
    obama_cardless.refresh_from_db()
    assert obama_cardless.status == CardlessAccess.Status.DISABLED
    assert [message.phone for message in TestSender.outbox] == [PHONE]
    assert PIN not in page.content()


def _failure_text(page) -> str:
    page.wait_for_selector('[data-screen="otp-offer"]:not([hidden])', timeout=30_000)
    return page.inner_text("#failure-message")


def test_another_customers_face_at_this_number_is_refused_with_a_snapshot(
    live_server, browser_factory, noisy_camera, biden, settings
):
    settings.KIOSK_FACE_TIMEOUT_S = 4
    kiosk = KioskFactory(name="Card-less kiosk", cassettes={50: 10})
    browser = browser_factory(noisy_camera("people/joe_biden/biden_2.jpg"))
    page, _problems = _kiosk_page(live_server, browser, kiosk)
    _start_cardless(page)  # Obama's number, Biden's face
    message = _failure_text(page)
    assert "Biden" not in page.content() and "Barack" not in page.content()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_MISMATCH)
    assert event.data["nearest_customer_id"] == biden.pk and event.snapshots.exists()
    assert message  # the stranger's reason, shown as for any face that does not match
    # The code request answers as for a stranger (the code screen), but no code goes to the owner's phone.
    TestSender.outbox.clear()
    page.click('[data-screen="otp-offer"] [data-action="otp-request"]')
    page.wait_for_selector('[data-screen="otp"]:not([hidden])', timeout=10_000)
    assert TestSender.outbox == []
    refused = AuditEvent.objects.get(kind=AuditEvent.Kind.OTP_REFUSED)
    assert refused.data["why"] == "mismatch"


def test_unknown_number_goes_through_the_same_screens_and_is_refused(
    live_server, browser_factory, noisy_camera, biden, settings
):
    settings.KIOSK_FACE_TIMEOUT_S = 4
    kiosk = KioskFactory(name="Card-less kiosk", cassettes={50: 10})
    browser = browser_factory(noisy_camera("people/joe_biden/biden_2.jpg"))
    texts = []
    TestSender.outbox.clear()
    for number in (NATIONAL, "07700 900999"):  # Obama's number, then one nobody opted in with
        page, _problems = _kiosk_page(live_server, browser, kiosk)
        _start_cardless(page, number)
        texts.append(_failure_text(page))
        page.click('[data-screen="otp-offer"] [data-action="otp-request"]')
        page.wait_for_selector('[data-screen="otp"]:not([hidden])', timeout=10_000)
        texts.append(page.inner_text('[data-screen="otp"]'))
        page.click('[data-screen="otp"] [data-action="cancel"]')
        page.wait_for_selector('[data-screen="message"]:not([hidden])', timeout=10_000)
        texts.append(page.inner_text("#message-body"))
        page.context.close()
    assert texts[:3] == texts[3:]
    assert (
        TestSender.outbox == []
    )  # neither Biden's face at Obama's number nor an unknown number sends a code
    assert KioskSession.objects.filter(mode="cardless", state="ended").count() == 2


def test_shared_phone_the_face_picks_the_right_customer(
    live_server, browser_factory, noisy_camera, obama_cardless, faces_dir
):
    biden = CustomerFactory(full_name="Joe Biden", phone=PHONE)  # the family phone
    _enrol(biden, faces_dir, ["people/joe_biden/biden_1.jpg"])
    biden_access = _opt_in(biden, pin="7391")
    kiosk = KioskFactory(name="Card-less kiosk", cassettes={50: 10})
    browser = browser_factory(noisy_camera("people/barack_obama/obama_5_480p.jpg"))
    page, _problems = _kiosk_page(live_server, browser, kiosk)
    _start_cardless(page)
    _enter_pin(page, "7391")  # Joe's PIN is not Barack's
    page.wait_for_selector("#error:not([hidden])", timeout=10_000)
    _enter_pin(page, PIN)
    page.wait_for_selector('[data-screen="menu"]:not([hidden])', timeout=10_000)
    assert "Barack" in page.inner_text("#menu-welcome")
    session = KioskSession.objects.get(kiosk=kiosk)
    assert sorted(session.cardless_candidates) == sorted(
        [obama_cardless.customer_id, biden_access.customer_id]
    )
    assert session.customer_id == obama_cardless.customer_id
