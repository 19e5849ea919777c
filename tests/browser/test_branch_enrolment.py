"""The branch enrolment page in headless Chromium with a fake camera showing a real face."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from biometrics.models import Enrolment
from biometrics.services import enrolment_capture, gallery_sync, verification
from tests.factories import CustomerFactory
from tests.support.faces import first_enrolment_approve

PHOTO = "people/barack_obama/obama_1.jpg"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "branch-enrolment"

# The preview's geometry: the video element's box, the camera's frame size, the guide circle's box.
PREVIEW_JS = """
() => {
  const video = document.getElementById('camera');
  const box = (el) => el.getBoundingClientRect().toJSON();
  return {video: box(video), frame: [video.videoWidth, video.videoHeight],
          fit: getComputedStyle(video).objectFit, guide: box(document.querySelector('.guide'))};
}
"""


@pytest.fixture
def capture_page(live_server, teller, browser_factory, camera_file, settings):
    """``open(photos_required) -> (page, enrolment)``: the teller's camera page for a consenting customer."""
    gallery_sync.gallery_reset()
    verification.cache_clear()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    session = Client()
    session.force_login(teller)
    browsers: dict[tuple[int, int], object] = {}

    def open_page(photos_required: int, camera: tuple[int, int] = (1280, 720)):
        if camera not in browsers:
            browsers[camera] = browser_factory(camera_file(PHOTO, width=camera[0], height=camera[1]))
        browser = browsers[camera]
        customer = CustomerFactory(full_name="Barack Obama")
        enrolment_capture.customer_consent_record(customer=customer, actor=teller)
        enrolment = enrolment_capture.enrolment_start(
            customer=customer, actor=teller, photos_required=photos_required
        )
        context = browser.new_context(viewport={"width": 1366, "height": 768})
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
    enrolment_capture.customer_consent_record(customer=customer, actor=teller)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=teller, photos_required=3)
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


@pytest.mark.parametrize("camera", [(640, 480), (1280, 720)])
def test_the_preview_shows_the_whole_frame_with_the_guide_on_a_centred_face(capture_page, camera):
    """Issue 23: the preview cropped a 4:3 camera into a 16:9 box and the guide circle missed the face. The
    video box has the camera's aspect ratio, the whole frame is shown, the circle is at the frame's centre."""
    page, _enrolment = capture_page(1, camera)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width, height in [(1366, 768), (1024, 768), (375, 812)]:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # layout settles
        page.screenshot(path=str(ARTIFACTS / f"preview-{camera[0]}x{camera[1]}-{width}x{height}.png"))
        found = page.evaluate(PREVIEW_JS)
        video, guide, where = found["video"], found["guide"], f"camera {camera} at {width}×{height}"
        assert found["frame"] == list(camera), where
        assert found["fit"] == "contain", where  # never a crop, whatever box the layout gives
        assert video["width"] / video["height"] == pytest.approx(camera[0] / camera[1], rel=0.02), where
        assert video["height"] <= height, f"{where}: preview taller than the window"
        centre_x = guide["left"] + guide["width"] / 2
        centre_y = guide["top"] + guide["height"] / 2
        assert video["left"] <= centre_x <= video["right"] and video["top"] <= centre_y <= video["bottom"]
        assert centre_x == pytest.approx(video["left"] + video["width"] / 2, abs=0.05 * video["width"])
        assert centre_y == pytest.approx(video["top"] + video["height"] / 2, abs=0.05 * video["height"])
        # A face, not a sausage: the circle is taller than wide, and inside the frame.
        assert guide["height"] >= guide["width"] >= 0.5 * guide["height"], where
        assert guide["height"] <= video["height"], where
