"""Headless Debian Chromium, driven by Playwright's sync API, with a fake camera playing a real photo.

Usage (see also /work/shared/BROWSER_CAMERA.md)::

    def test_kiosk_sees_owner(live_server, browser_factory, camera_file, alice_card):
        browser = browser_factory(camera_file("people/barack_obama/obama_1.jpg"))
        page = browser.new_page()
        page.goto(f"{live_server.url}/kiosk/")
        ...

Every test in this folder is marked ``browser``. Without Chromium the tests skip on a laptop and fail
under CI=true (tests.support.environment.chromium_path).

Playwright's sync API keeps its asyncio loop registered as the main thread's *running* loop for as long
as Playwright runs (playwright/_impl/_greenlets.py, wait_for_future). Django then refuses every ORM query
made by the test itself (factories, assertions, fixture teardown) with SynchronousOnlyOperation. The
queries really are synchronous, in this thread, so telling Django with DJANGO_ALLOW_ASYNC_UNSAFE is
safe; the launcher sets it only while Playwright runs, and is package-scoped so Playwright (and its
"running" loop) stops before any test outside tests/browser runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from tests.support import camera, environment

if TYPE_CHECKING:
    from playwright.sync_api import Browser

BROWSER_DIR = Path(__file__).resolve().parent
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".webm", ".mkv"})

CHROMIUM_ARGS = (
    "--no-sandbox",  # mandatory as root (containers, CI)
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # Docker's 64 MB /dev/shm crashes renderers
    "--use-fake-ui-for-media-stream",  # grant the camera without a permission prompt
    "--use-fake-device-for-media-stream",
)


class Launch(Protocol):
    def __call__(self, camera_file: Path | None = None, **launch_options: Any) -> Browser: ...


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def chromium_launcher() -> Iterator[Launch]:
    """``launch(camera_file=None, **launch_options) -> Browser``; every browser closes at the end.

    The fake-camera file is a process-wide Chromium flag, so each camera needs its own browser; one
    Playwright driver serves them all. Without a camera file the page gets Chromium's synthetic test
    pattern (no face).
    """
    executable = environment.chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        environment.unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
        raise

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    browsers: list[Browser] = []

    def launch(camera_file: Path | None = None, **launch_options: Any) -> Browser:
        args = [*CHROMIUM_ARGS, *launch_options.pop("args", [])]
        if camera_file is not None:
            camera_file = Path(camera_file).resolve()
            if not camera_file.is_file():
                # Chromium would only say NotFoundError in the page; say which file is missing here.
                raise FileNotFoundError(f"fake camera file {camera_file} does not exist")
            args.append(f"--use-file-for-fake-video-capture={camera_file}")
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=args, **launch_options
        )
        browsers.append(browser)
        return browser

    try:
        yield launch
    finally:
        for browser in browsers:
            if browser.is_connected():
                browser.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_factory(chromium_launcher: Launch) -> Iterator[Launch]:
    """``chromium_launcher`` whose browsers close when the test ends (2 cores: keep few Chromiums alive)."""
    launched: list[Browser] = []

    def launch(camera_file: Path | None = None, **launch_options: Any) -> Browser:
        browser = chromium_launcher(camera_file, **launch_options)
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        if browser.is_connected():
            browser.close()


@pytest.fixture(scope="session")
def camera_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``make(photo, *, width=640, height=480, frames=1) -> Path``: a cached .y4m of a shared photo.

    ``photo`` is relative to ATM_FACES_DIR (``"people/barack_obama/obama_1.jpg"``) or absolute; a video
    (``"video/short_hamilton_clip.mp4"``) becomes a camera playing it in real time at 15 fps. A missing
    photo folder skips the test (fails under CI=true).
    """
    folder = tmp_path_factory.mktemp("camera")
    made: dict[tuple[str, int, int, int], Path] = {}

    def make(photo: str | Path, *, width: int = 640, height: int = 480, frames: int = 1) -> Path:
        source = Path(photo)
        if not source.is_absolute():
            source = environment.faces_dir() / source
        if not source.is_file():
            environment.unavailable(f"photo {source} not found (ATM_FACES_DIR)")
        key = (str(source), width, height, frames)
        if key not in made:
            out = folder / f"{len(made):03d}-{source.stem}-{width}x{height}.y4m"
            if source.suffix.lower() in VIDEO_SUFFIXES:
                made[key] = camera.y4m_from_video(source, out, width=width, height=height)
            else:
                made[key] = camera.y4m_from_image(source, out, width=width, height=height, frames=frames)
        return made[key]

    return make
