"""Issue 23 item 5 in Chromium at 1366×768, in English and Russian: the chain banner names the witness's
checkpoint, the review grid opens on new snapshots, a mark needs a note and earlier notes stay visible.
Screenshots are kept in var/screenshots/audit/ (git-ignored) for a person to look at."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from PIL import Image
from playwright.sync_api import Page, expect

from audit.models import AuditEvent, AuditSnapshot
from audit.selectors import CHAIN_STATUS_CACHE_KEY
from audit.services import audit_event_record
from tests.audit.conftest import witness_sign

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "audit"
WORDS = {
    "en": {"anchored": "Anchored by the witness", "grid": "Failed-attempt snapshots", "all": "All"},
    "ru": {"anchored": "Закреплена свидетелем", "grid": "Снимки неудачных попыток", "all": "Все"},
}


@pytest.fixture
def attempts(settings, tmp_path, alice_card, kiosk) -> list[AuditEvent]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.AUDIT_CHECKPOINT_SINK = str(tmp_path / "sink.jsonl")
    settings.AUDIT_WITNESS_URL = str(tmp_path / "witness.jsonl")
    made = []
    for index, reason in enumerate(("mismatch", "several_faces", "liveness")):
        frame = io.BytesIO()
        Image.new("RGB", (640, 480), (60 + 40 * index, 90, 120)).save(frame, format="JPEG")
        with transaction.atomic():
            made.append(
                audit_event_record(
                    kind=AuditEvent.Kind.FACE_DECISION,
                    outcome=AuditEvent.Outcome.FAILURE,
                    kiosk_id=kiosk.pk,
                    customer_id=alice_card.customer_id,
                    card_last4=alice_card.last4,
                    data={"reason": reason},
                    snapshot=frame.getvalue(),
                )
            )
    witness_sign()
    cache.delete(CHAIN_STATUS_CACHE_KEY)
    return made


@pytest.fixture
def auditor_page(live_server, browser_factory, auditor) -> Iterator[Any]:
    browser = browser_factory()
    problems: list[str] = []

    def open_in(language: str) -> Page:
        session = Client()
        session.force_login(auditor)
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale=language)
        context.add_cookies(
            [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
        )
        page = context.new_page()
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        return page

    yield open_in
    assert not problems, problems


def _shot(page: Page, language: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"1366x768-{language}-{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_auditor_reviews_with_notes_and_sees_the_anchor(live_server, auditor_page, attempts, language):
    words = WORDS[language]
    page = auditor_page(language)
    page.goto(f"{live_server.url}/admin/audit/auditevent/")
    expect(page.locator("#audit-chain-status")).to_contain_text(words["anchored"])
    _shot(page, language, "list-banner")
    page.goto(f"{live_server.url}/admin/audit/auditevent/snapshots/")
    expect(page.locator("h1")).to_contain_text(words["grid"])
    expect(page.locator(".snapshot")).to_have_count(3)  # opens on new
    card = page.locator(".snapshot").first
    card.locator("button[value=reviewed]").click()  # no note: the browser asks for one, nothing is sent
    assert not AuditSnapshot.objects.exclude(status=AuditSnapshot.Status.NEW).exists()
    card.locator("input[name=note]").fill("Printed photo held to the camera?")
    card.locator("button[value=fraud_suspected]").click()
    expect(page.locator(".snapshot")).to_have_count(2)  # the marked one left the "new" queue
    page.locator(".snapshot-status-filter a", has_text=words["all"]).click()
    marked = page.locator(".snapshot", has=page.locator(".snapshot-mark"))
    marked.locator("input[name=note]").fill("Called the customer: it was him, new glasses")
    marked.locator("button[value=reviewed]").click()  # back on "all", where the reviewer was
    marks = page.locator(".snapshot-mark")
    expect(marks).to_have_count(2)
    expect(marks.nth(0)).to_contain_text("new glasses")
    expect(marks.nth(1)).to_contain_text("Printed photo")
    _shot(page, language, "grid-history")
