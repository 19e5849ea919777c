"""The fake camera carries a real face into a page's getUserMedia, and the harness works with live_server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support import camera

# A page as small as the kiosk's camera code: open the camera at 640x480, wait for a decoded frame, draw
# it on a canvas and hand back the JPEG. 127.0.0.1 is a secure context, so plain http is enough.
CAPTURE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>camera</title></head>
<body><video id="video" autoplay muted playsinline></video><canvas id="canvas"></canvas>
<script>
async function captureFrame() {
  const stream = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}});
  const video = document.getElementById("video");
  video.srcObject = stream;
  await video.play();
  while (video.readyState < 2) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const canvas = document.getElementById("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  stream.getTracks().forEach((track) => track.stop());
  return canvas.toDataURL("image/jpeg", 0.95);
}
</script></body></html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def capture_page_url(tmp_path: Path) -> Iterator[str]:
    """The capture page, served by http.server from tmp_path (the project's urls.py stays untouched)."""
    (tmp_path / "capture.html").write_text(CAPTURE_PAGE, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/capture.html"
    finally:
        server.shutdown()
        server.server_close()


def _count_faces(rgb: np.ndarray) -> int:
    try:
        from biometrics.engine import detect_faces
    except ImportError:  # the engine is optional here: face_recognition gives the same HOG count
        import face_recognition

        return len(face_recognition.face_locations(rgb))
    return len(detect_faces(rgb, purpose="live"))


def _capture(launch: Callable[..., Any], camera_path: Path, url: str) -> np.ndarray:
    browser = launch(camera_path)
    page = browser.new_page()
    page.goto(url)
    return camera.rgb_from_data_url(page.evaluate("captureFrame()"))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / mse)


# --- the .y4m writer ------------------------------------------------------------------------------------


def test_y4m_header_and_frame_layout(tmp_path: Path) -> None:
    grey = np.full((480, 640, 3), 100, dtype=np.uint8)

    path = camera.y4m_from_image(grey, tmp_path / "grey.y4m", frames=2)

    data = path.read_bytes()
    header = b"YUV4MPEG2 W640 H480 F15:1 Ip A1:1 C420jpeg\n"
    assert data.startswith(header)
    frame = b"FRAME\n"
    assert len(data) == len(header) + 2 * (len(frame) + 460_800)
    first = data[len(header) :]
    assert first.startswith(frame)
    assert first[len(frame) + 460_800 :].startswith(frame)


def test_y4m_flat_grey_round_trip_is_limited_range_bt601(tmp_path: Path) -> None:
    value = 200
    path = camera.y4m_from_image(np.full((480, 640, 3), value, np.uint8), tmp_path / "grey.y4m")

    planes = np.frombuffer(path.read_bytes()[-460_800:], dtype=np.uint8)
    luma, cb, cr = planes[: 640 * 480], planes[640 * 480 : 640 * 480 * 5 // 4], planes[640 * 480 * 5 // 4 :]
    assert np.all(np.abs(luma.astype(int) - (16 + 0.859 * value)) <= 0.5)
    assert cb.size == cr.size == 320 * 240
    assert set(np.unique(cb)) <= {127, 128, 129} and set(np.unique(cr)) <= {127, 128, 129}


def test_y4m_letterboxes_a_wide_photo_without_stretching(tmp_path: Path) -> None:
    white_wide = np.full((100, 400, 3), 255, dtype=np.uint8)  # 4:1 -> 640x160 band, black bars above/below

    path = camera.y4m_from_image(white_wide, tmp_path / "wide.y4m")

    luma = np.frombuffer(path.read_bytes()[-460_800:], dtype=np.uint8)[: 640 * 480].reshape(480, 640)
    assert np.all(luma[:150] == 16) and np.all(luma[-150:] == 16)  # black is 16 in limited range
    assert np.all(luma[170:310] == 235)  # white is 235


def test_y4m_chroma_is_averaged_over_two_by_two(tmp_path: Path) -> None:
    checker = np.zeros((2, 2, 3), dtype=np.uint8)
    checker[0, 0] = checker[1, 1] = (255, 0, 0)  # half red, half black -> mean colour (127.5, 0, 0)

    i420 = camera.rgb_to_i420(checker)

    assert i420[4] == round(128 - 0.148 * 127.5) and i420[5] == round(128 + 0.439 * 127.5)


def test_y4m_refuses_odd_sizes_and_empty_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        camera.y4m_from_frames([np.zeros((4, 4, 3), np.uint8)], tmp_path / "odd.y4m", width=641, height=480)
    with pytest.raises(ValueError, match="no frames"):
        camera.y4m_from_frames([], tmp_path / "empty.y4m", width=640, height=480)
    assert not (tmp_path / "empty.y4m").exists()


def test_y4m_from_video_plays_in_real_time_at_15_fps(faces_dir: Path, tmp_path: Path) -> None:
    path = camera.y4m_from_video(
        faces_dir / "video/short_hamilton_clip.mp4", tmp_path / "v.y4m", max_seconds=2
    )

    data = path.read_bytes()
    header = b"YUV4MPEG2 W640 H480 F15:1 Ip A1:1 C420jpeg\n"
    assert data.startswith(header)
    assert (len(data) - len(header)) / (6 + 460_800) == 30  # 2 s of a 30 fps clip at 15 fps


# --- Chromium -----------------------------------------------------------------------------------------


def test_fake_camera_shows_the_photo_with_one_face(
    browser_factory: Callable[..., Any],
    camera_file: Callable[..., Path],
    capture_page_url: str,
    faces_dir: Path,
) -> None:
    y4m = camera_file("people/barack_obama/obama_1.jpg")

    frame = _capture(browser_factory, y4m, capture_page_url)

    assert frame.shape == (480, 640, 3)
    source = camera.letterbox(
        camera.read_rgb(faces_dir / "people/barack_obama/obama_1.jpg"), width=640, height=480
    )
    assert _psnr(frame, source) > 30  # colours right: full-range mistakes come out at ~29 dB, darker
    assert _count_faces(frame) == 1


def test_fake_camera_two_people_photo_gives_two_faces(
    browser_factory: Callable[..., Any], camera_file: Callable[..., Path], capture_page_url: str
) -> None:
    frame = _capture(browser_factory, camera_file("scenes/two_people.jpg"), capture_page_url)

    assert _count_faces(frame) == 2


def test_without_camera_file_the_fake_device_shows_no_face(
    browser_factory: Callable[..., Any], capture_page_url: str
) -> None:
    frame = _capture(browser_factory, None, capture_page_url)  # Chromium's synthetic test pattern

    assert frame.shape == (480, 640, 3)
    assert _count_faces(frame) == 0


def test_orm_and_live_server_work_while_playwright_runs(
    live_server: Any, browser_factory: Callable[..., Any]
) -> None:
    from django.contrib.auth import get_user_model

    from tests.factories import UserFactory

    page = browser_factory().new_page()  # Playwright's loop is now the thread's "running" loop
    user = UserFactory(username="browser_admin", is_superuser=True)  # ORM write from this thread

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "browser_admin")
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME")
    assert get_user_model().objects.get(pk=user.pk).last_login is not None  # the server's write is visible
