"""Customer 360 and Today (issue 23 item 4) in Chromium at 1366×768, English and Russian, as a branch manager
opens them: no server or console error, the page fits the width, and a screenshot of each is kept in
test-artifacts/branch-day/ (git-ignored) for a person to look at."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page

from accounts.approvals.services import phone_change_propose
from accounts.services import withdrawal_create
from audit.models import AuditEvent
from audit.services import audit_event_record
from kiosk.models import CashInBin
from kiosk.services.heartbeat import kiosk_heartbeat_record
from tests.factories import KioskFactory
from tests.kiosk.factories import KioskSessionFactory

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "branch-day"
TEXTS = {
    "en": {"c360": "Accounts and balances", "today": "Kiosk sessions today", "offline": "Offline"},
    "ru": {"c360": "Счета и остатки", "today": "Сеансов в киосках сегодня", "offline": "Не на связи"},
}


@pytest.fixture
def branch_day(settings, tmp_path, alice_card, teller):
    """A morning at the branch: two kiosks (one silent, one jammed), Alice's sessions and a snapshot of a
    failed check, and a phone change a teller proposed."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    now = timezone.now()
    lobby = KioskFactory(name="Lobby", location="Main street 1", cassettes={50: 120, 20: 30, 10: 200})
    kiosk_heartbeat_record(kiosk=lobby, now=now, error="Cash-in module jammed: notes returned")
    CashInBin.objects.create(kiosk=lobby, denomination=20, count=1700)
    street = KioskFactory(name="Street", location="Market square", cassettes={50: 90, 20: 150})
    kiosk_heartbeat_record(kiosk=street, now=now - dt.timedelta(minutes=20))
    withdrawal_create(
        account=alice_card.account, amount=Decimal("60"), kiosk=lobby, idempotency_key="branch-day-1"
    )
    KioskSessionFactory(card=alice_card, kiosk=lobby)
    KioskSessionFactory(card=alice_card, kiosk=lobby, verified_by="otp")
    failed = {"state": "ended", "verified_at": None, "verified_by": "", "face_failure_reason": "no_match"}
    KioskSessionFactory(card=alice_card, kiosk=street, end_reason="customer", **failed)
    jpeg = io.BytesIO()
    Image.new("RGB", (320, 240), (150, 110, 90)).save(jpeg, format="JPEG")
    with transaction.atomic():
        audit_event_record(
            kind=AuditEvent.Kind.FACE_DECISION,
            outcome=AuditEvent.Outcome.FAILURE,
            kiosk_id=street.pk,
            customer_id=alice_card.customer_id,
            card_last4=alice_card.last4,
            data={"reason": "no_match"},
            snapshot=jpeg.getvalue(),
        )
    phone_change_propose(customer=alice_card.customer, phone="+447700900555", actor=teller)
    return alice_card.customer


@pytest.fixture
def manager_page(live_server, browser_factory, administrator) -> Iterator[Any]:
    browser = browser_factory()
    problems: list[str] = []

    def open_in(language: str) -> Page:
        session = Client()
        session.force_login(administrator)
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale=language)
        context.add_cookies(
            [
                {"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url},
                {"name": "django_language", "value": language, "url": live_server.url},
            ]
        )
        page = context.new_page()
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        return page

    yield open_in
    assert not problems, problems


def _fits(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow} px wider than the window at {page.url}"


def _shot(page: Page, language: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"1366x768-{language}-{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_customer_360_and_today_at_a_desk(live_server, manager_page, branch_day, language):
    page = manager_page(language)
    page.goto(f"{live_server.url}/admin/accounts/customer/{branch_day.pk}/change/")
    page.click("#customer-360-link")
    page.wait_for_selector("#c360-accounts")
    assert TEXTS[language]["c360"] in page.inner_text("#c360-accounts h2")
    assert page.locator("#c360-snapshots img.snapshot-thumb").count() == 1
    assert page.locator("#c360-sessions tbody tr").count() == 3
    _fits(page)
    _shot(page, language, "customer-360")

    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("#today")
    assert TEXTS[language]["today"] in page.inner_text("#today-sessions h2")
    assert page.locator("#today-approvals tbody a").count() == 1
    street = page.locator('tr[data-kiosk="Street"]')
    assert TEXTS[language]["offline"] in street.inner_text()
    assert "needs-action" in (street.get_attribute("class") or "")
    assert "jammed" in page.inner_text('tr[data-kiosk="Lobby"]')
    _fits(page)
    _shot(page, language, "today")


def test_kiosk_page_sends_a_heartbeat_that_today_shows(live_server, browser_factory, manager_page, kiosk):
    from kiosk.services.credentials import kiosk_credential_rotate

    _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=None)
    context = browser_factory().new_context(viewport={"width": 1024, "height": 768})
    context.add_cookies([{"name": "kiosk_credential", "value": token, "url": live_server.url}])
    kiosk_page = context.new_page()
    with kiosk_page.expect_response(lambda r: r.url.endswith("/api/kiosk/heartbeat/")) as beat:
        kiosk_page.goto(f"{live_server.url}/kiosk/")
    assert beat.value.status == 200
    kiosk.refresh_from_db()
    assert kiosk.last_contact_at is not None and kiosk.last_error == ""
    page = manager_page("en")
    page.goto(f"{live_server.url}/admin/")
    assert "Online" in page.inner_text(f'tr[data-kiosk="{kiosk.name}"]')
