"""The branch enrolment page in headless Chromium with a fake camera showing a real face."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from biometrics.models import Enrolment
from biometrics.services import enrollment, gallery_sync, verification
from tests.factories import CustomerFactory
from tests.support.faces import first_enrolment_approve

PHOTO = "people/barack_obama/obama_1.jpg"


@pytest.fixture
def capture_page(live_server, teller, browser_factory, camera_file, settings):
    """``open(photos_required) -> (page, enrolment)``: the teller's camera page for a consenting customer."""
    gallery_sync.gallery_reset()
    verification.cache_clear()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    session = Client()
    session.force_login(teller)
    browser = browser_factory(camera_file(PHOTO, width=1280, height=720))

    def open_page(photos_required: int):
        customer = CustomerFactory(full_name="Barack Obama")
        enrollment.customer_consent_record(customer=customer, actor=teller)
        enrolment = enrollment.enrolment_start(
            customer=customer, actor=teller, photos_required=photos_required
        )
        context = browser.new_context()
        context.add_cookies(
            [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/branch/enrolments/{enrolment.pk}/")
        page.wait_for_selector("#shoot:not([disabled])", timeout=20_000)
        return page, enrolment

    yield open_page
    gallery_sync.gallery_reset()
    verification.cache_clear()


def test_capture_submit_and_see_the_outcome(capture_page):
    page, enrolment = capture_page(1)
    # No page.wait_for_function: it evaluates strings, which the page's CSP (script-src 'self') forbids.
    page.click("#shoot")
    expect(page.locator("#feedback")).to_have_class(re.compile(r"\bok\b"), timeout=30_000)
    expect(page.locator("#taken")).to_have_text("1")
    page.click("#submit")
    # A first face waits for a second member of staff (issue 20): the page says so.
    expect(page.locator("#result-title")).to_have_text("Needs review", timeout=60_000)
    expect(page.locator("#result-text")).to_contain_text("first face")
    # The hidden attribute beats the CSS: no capture panel, no "Retake photos", no stale camera text.
    expect(page.locator("#capture-panel")).to_be_hidden()
    expect(page.locator("#retake")).to_be_hidden()
    expect(page.locator("#feedback")).to_be_hidden()
    expect(page.locator("#done")).to_be_visible()
    first_enrolment_approve(enrolment.customer)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert enrolment.templates.count() == 1


def test_a_repeated_still_shot_is_refused_with_the_reason(capture_page):
    page, enrolment = capture_page(2)
    page.click("#shoot")
    expect(page.locator("#taken")).to_have_text("1", timeout=30_000)
    page.click("#shoot")
    expect(page.locator("#feedback")).to_have_class(re.compile(r"\berror\b"), timeout=30_000)
    # A looping one-frame camera gives the same JPEG bytes again, refused before the pose check runs.
    expect(page.locator("#feedback")).to_contain_text(re.compile("already taken|move your head"))
    assert enrolment.photos.count() == 1


def test_a_recorded_clip_provides_photos(live_server, teller, browser_factory, camera_file, settings):
    """MediaRecorder in Chromium → WebM → OpenCV on the server (the camera plays the real video clip)."""
    gallery_sync.gallery_reset()
    session = Client()
    session.force_login(teller)
    browser = browser_factory(camera_file("video/short_hamilton_clip.mp4", width=1280, height=720))
    customer = CustomerFactory(full_name="Clip Customer")
    enrollment.customer_consent_record(customer=customer, actor=teller)
    enrolment = enrollment.enrolment_start(customer=customer, actor=teller, photos_required=3)
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/branch/enrolments/{enrolment.pk}/")
    page.wait_for_selector("#record:not([disabled])", timeout=20_000)
    page.click("#record")
    # The clip shows one face turning: it must yield photos. A refusal ("No usable view") fails here.
    expect(page.locator("#feedback")).to_contain_text(
        re.compile("from the clip|All photos taken|No usable view"), timeout=60_000
    )
    expect(page.locator("#feedback")).not_to_contain_text("No usable view", timeout=1_000)
    taken = enrolment.photos.count()
    assert 1 <= taken <= 3
    assert page.text_content("#taken") == str(taken)


def test_a_reload_keeps_the_count_and_shows_the_kept_photos(capture_page):
    page, _enrolment = capture_page(2)
    thumbnails: list[int] = []
    page.on("response", lambda r: thumbnails.append(r.status) if "thumbnail.jpg" in r.url else None)
    page.click("#shoot")
    expect(page.locator("#taken")).to_have_text("1", timeout=30_000)
    expect(page.locator("#thumbs li.ok img")).to_have_count(1)

    page.reload()

    page.wait_for_selector("#shoot:not([disabled])", timeout=20_000)
    expect(page.locator("#feedback")).to_contain_text("1 of 2 photos already taken")
    expect(page.locator("#feedback")).not_to_contain_text("first photo")
    expect(page.locator("#thumbs li.ok img")).to_have_count(1)
    expect(page.locator("#result-panel")).to_be_hidden()
    page.wait_for_load_state("networkidle")
    assert thumbnails and set(thumbnails) == {200}
