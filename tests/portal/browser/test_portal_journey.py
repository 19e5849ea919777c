"""The customer portal in headless Chromium, at a phone (375×812) and a desk (1366×768), in English and
Russian: a teller activates the customer, who sets a password, signs in with a WhatsApp code, sets up an
authenticator app and signs in with it, chooses notifications, reports "this was not me" and freezes the
card, withdraws consent and downloads their data. Zero 5xx, zero console errors, no sideways scrolling;
a screenshot of every screen in test-artifacts/portal/<size>-<lang>/ for a person to look at."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Card, ChangeRequest
from accounts.services import deposit_create, withdrawal_create
from kiosk.vocabulary import FailureReason
from notifications.senders import TestSender
from portal.models import CustomerLogin, FraudCase
from tests.factories import (
    BankAccountFactory,
    CardFactory,
    CustomerFactory,
    EnrolmentFactory,
    FaceTemplateFactory,
    make_pan,
)

from ..conftest import PASSWORD, last_code
from ..test_controls import kiosk_session

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "portal"
VIEWPORTS = {"375x812": {"width": 375, "height": 812}, "1366x768": {"width": 1366, "height": 768}}
LOCALES = {"en": "en-GB", "ru": "ru-RU"}
# One word per language that must be on the signed-in home page (the page really is in that language).
HOME_WORD = {"en": "Accounts", "ru": "Счета"}


class Watched:
    """A page whose server and console errors are collected, with numbered screenshots."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page, self.folder, self.shots = page, folder, 0
        self.problems: list[str] = []
        folder.mkdir(parents=True, exist_ok=True)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("response", self._response)

    def _response(self, response: Any) -> None:
        if response.status >= 500:
            self.problems.append(f"{response.status} from {response.url}")

    def _console(self, message: Any) -> None:
        # A refused form answers 4xx on purpose (the reason is on the page); Chromium logs that as an error.
        if message.type == "error" and "the server responded with a status of 4" not in message.text:
            self.problems.append(f"console: {message.text} at {self.page.url}")

    def shot(self, name: str) -> None:
        self.shots += 1
        width = self.page.evaluate("document.documentElement.scrollWidth")
        viewport = self.page.viewport_size or {"width": 0}
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert width <= viewport["width"], f"{name}: page is {width} px wide in {viewport['width']} px"
        self.page.screenshot(path=str(self.folder / f"{self.shots:02d}-{name}.png"), full_page=True)


@pytest.fixture(params=[(v, lang) for v in VIEWPORTS for lang in LOCALES], ids=lambda p: f"{p[0]}-{p[1]}")
def setting(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param


@pytest.fixture
def watch(live_server: Any, browser_factory: Any, setting: tuple[str, str]) -> Iterator[Any]:
    viewport, lang = setting
    browser = browser_factory()
    opened: list[Watched] = []

    def open_page(who: str, cookies: list[dict[str, str]] | None = None) -> Watched:
        context = browser.new_context(
            viewport=VIEWPORTS[viewport], locale=LOCALES[lang], accept_downloads=True
        )
        if cookies:
            context.add_cookies([{**cookie, "url": live_server.url} for cookie in cookies])
        watched = Watched(context.new_page(), ARTIFACTS / f"{viewport}-{lang}" / who)
        opened.append(watched)
        return watched

    yield open_page
    problems = [problem for watched in opened for problem in watched.problems]
    assert not problems, problems


@pytest.fixture
def carol(transactional_db: None) -> dict[str, Any]:
    customer = CustomerFactory(
        full_name="Carol Cole", phone="+447700900301", biometric_consent_at=timezone.now()
    )
    account = BankAccountFactory(customer=customer, balance="750.00", number="DE00 2000 0000 00007777")
    card = CardFactory(account=account, customer=customer, pan=make_pan(301))
    deposit_create(account=account, amount="120.00", idempotency_key="carol-deposit-1")
    withdrawal_create(account=account, amount="120.00", idempotency_key="carol-withdrawal-1")
    enrolment = EnrolmentFactory(customer=customer, status="active", completed_at=timezone.now())
    FaceTemplateFactory.create_batch(
        2, customer=customer, enrolment=enrolment, engine_version="test-engine/1"
    )
    kiosk_session(card=card, outcome="face", minutes_ago=90)
    failed = kiosk_session(card=card, outcome=FailureReason.NO_MATCH, minutes_ago=15)
    return {"customer": customer, "card": card, "failed": failed}


def _teller_activates(watch: Any, live_server: Any, teller: Any, customer: Any) -> tuple[str, Watched]:
    staff = Client()
    staff.force_login(teller)
    clerk = watch("teller", cookies=[{"name": "sessionid", "value": staff.cookies["sessionid"].value}])
    page = clerk.page
    page.goto(f"{live_server.url}/admin/accounts/customer/")
    page.locator("#result_list tr", has_text=customer.full_name).locator("input.action-select").check()
    page.select_option("select[name=action]", "activate_online_banking")
    page.click("button[name=index]")
    link = page.locator("#activation-link").inner_text()
    clerk.shot("activation-link")
    assert TestSender.outbox[-1].phone == customer.phone and link in TestSender.outbox[-1].body
    return link, clerk


def _sign_in(customer: Watched, base: str, phone: str) -> Page:
    page = customer.page
    page.goto(f"{base}/my/sign-in/")
    page.fill("#id_phone", phone)
    page.fill("#id_password", PASSWORD)
    page.click("#sign-in")
    expect(page.locator("#id_code")).to_be_visible()
    return page


def _activate_and_sign_in(customer: Watched, link: str, base: str, lang: str) -> None:
    page = customer.page
    page.goto(link)
    customer.shot("activate")
    page.fill("#id_password", "short")
    page.fill("#id_password_repeat", "short")
    page.click("#activate")
    expect(page.locator(".errorlist")).to_be_visible()
    customer.shot("activate-refused")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_repeat", PASSWORD)
    page.click("#activate")
    page.click("#to-sign-in")
    customer.shot("sign-in")
    # Sign-in with the WhatsApp code.
    _sign_in(customer, base, "+447700900301")
    customer.shot("code")
    page.fill("#id_code", last_code(TestSender.outbox))
    page.click("#verify")
    expect(page.locator("main")).to_contain_text(HOME_WORD[lang])
    expect(page.locator("main")).to_contain_text("750,00" if lang == "ru" else "750.00")
    customer.shot("home")


def _authenticator_and_notifications(customer: Watched, base: str, lang: str, carol: dict[str, Any]) -> None:
    page = customer.page
    # Authenticator app: enrol by QR / key, then sign in with it.
    page.click("a[href='/my/settings/']")
    page.click("#totp-setup")
    expect(page.locator(".qr svg")).to_be_visible()
    customer.shot("totp-setup")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.click("#confirm-totp")
    assert CustomerLogin.objects.get(customer=carol["customer"]).has_totp
    # Notifications.
    page.goto(f"{base}/my/settings/")
    page.check("#id_withdrawals")
    page.check("#id_face_failures")
    page.click("#save-notifications")
    expect(page.locator("#saved")).to_be_visible()
    customer.shot("settings-saved")
    login = CustomerLogin.objects.get(customer=carol["customer"])
    assert login.notify_withdrawals and login.notify_face_failures and login.language == lang
    page.click("#sign-out")
    sent = len(TestSender.outbox)
    _sign_in(customer, base, "+447700900301")
    assert len(TestSender.outbox) == sent  # the app's code, no WhatsApp message
    # The code of the next time step: the one used for enrolment cannot be used again.
    page.fill("#id_code", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("#verify")
    expect(page.locator("main")).to_contain_text(HOME_WORD[lang])


def _not_me_and_freeze(customer: Watched, carol: dict[str, Any]) -> None:
    page = customer.page
    page.click("a[href='/my/face/']")
    expect(page.locator("#template-count")).to_have_text("2")
    customer.shot("face")
    page.click(f"a[href='/my/face/uses/{carol['failed'].public_id}/not-me/']")
    page.fill("#id_note", "I was abroad <script>alert(1)</script>")
    customer.shot("not-me")
    page.click("#report")
    expect(page.locator("#case")).to_be_visible()
    customer.shot("not-me-done")
    page.click("#freeze-offer")
    assert FraudCase.objects.get().session_id == carol["failed"].pk
    assert Card.objects.get(pk=carol["card"].pk).status == Card.Status.BLOCKED
    expect(page.locator(f"#card-{carol['card'].pk} .badge.bad")).to_be_visible()
    customer.shot("card-frozen")
    page.click(f"#unfreeze-{carol['card'].pk}")
    expect(page.locator("#confirm-unfreeze")).to_be_visible()
    customer.shot("unfreeze")


def _consent_and_data(customer: Watched, base: str) -> None:
    page = customer.page
    # Withdraw consent: a four-eyes request whose state the portal shows.
    page.goto(f"{base}/my/face/")
    page.click("#withdraw-consent")
    change = ChangeRequest.objects.get()
    expect(page.locator(f"#request-{change.pk}")).to_be_visible()
    customer.shot("consent-withdrawn")
    # My data: JSON download and the readable page.
    page.goto(f"{base}/my/settings/")
    with page.expect_download() as download:
        page.click("#download-json")
    data = json.loads(Path(download.value.path()).read_text())
    assert data["customer"]["full_name"] == "Carol Cole" and data["face"]["active_templates"] == 2
    assert len(data["fraud_reports"]) == 1 and re.search(r"^\d{4}-", data["generated_at"])
    page.click("#view-html")
    expect(page.locator("main")).to_contain_text("Carol Cole")
    customer.shot("data-html")


def test_customer_portal_journey(live_server, watch, teller, carol, setting):
    viewport, lang = setting
    base = live_server.url
    link, clerk = _teller_activates(watch, live_server, teller, carol["customer"])
    customer = watch("customer")
    _activate_and_sign_in(customer, link, base, lang)
    _authenticator_and_notifications(customer, base, lang, carol)
    _not_me_and_freeze(customer, carol)
    _consent_and_data(customer, base)
    if viewport == "375x812":
        customer.page.goto(f"{base}/my/accounts/{carol['card'].account_id}/")
        customer.shot("account")
    # The back office's fraud queue lists the report.
    clerk.page.goto(f"{base}/admin/portal/fraudcase/")
    expect(clerk.page.locator("#result_list")).to_contain_text("Carol Cole")
    if viewport == "1366x768":
        clerk.shot("fraud-queue")
