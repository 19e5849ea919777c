"""Fake-camera files for headless Chromium: real photos and videos as YUV4MPEG2 (.y4m).

Chromium's ``--use-file-for-fake-video-capture=FILE.y4m`` feeds the file to ``getUserMedia`` and loops it.
What it accepts, and why this module writes exactly that (see /work/shared/BROWSER_CAMERA.md):

- 8-bit 4:2:0 only (``C420jpeg``); C444 or 10-bit fail in the page with ``NotFoundError``.
- The ``F`` rate tag is mandatory: without it the page waits for a first frame for ever, with no error.
- Chromium reads the samples as limited-range BT.601; full-range data still plays but comes out darker.
- The page gets the file's size; anything else is cropped or scaled by Chromium, and ``exact`` constraints
  that differ fail with ``OverconstrainedError``. So photos are letterboxed (not stretched, not cropped)
  into the size the page asks for.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

DEFAULT_WIDTH = 640
DEFAULT_HEIGHT = 480
DEFAULT_FPS = 15


def y4m_header(*, width: int, height: int, fps: int = DEFAULT_FPS) -> bytes:
    return f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii")


def frame_size(*, width: int, height: int) -> int:
    """Bytes of one I420 frame after its ``FRAME`` line (460,800 for 640x480)."""
    return width * height * 3 // 2


def rgb_to_i420(rgb: np.ndarray) -> bytes:
    """One HxWx3 uint8 RGB image -> planar Y, U, V (limited-range BT.601, chroma averaged over 2x2)."""
    height, width = rgb.shape[:2]
    if rgb.ndim != 3 or rgb.shape[2] != 3 or width % 2 or height % 2:
        raise ValueError(f"need an RGB image with even width and height, got shape {rgb.shape}")
    pixels = rgb.astype(np.float32)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    luma = 16.0 + 0.257 * red + 0.504 * green + 0.098 * blue
    # The chroma of a 2x2 block is the chroma of its mean colour (the transform is linear), so average RGB
    # once over the blocks rather than converting four times as many pixels.
    block = pixels.reshape(height // 2, 2, width // 2, 2, 3).mean(axis=(1, 3))
    red, green, blue = block[..., 0], block[..., 1], block[..., 2]
    cb = 128.0 - 0.148 * red - 0.291 * green + 0.439 * blue
    cr = 128.0 + 0.439 * red - 0.368 * green - 0.071 * blue
    planes = [np.clip(np.rint(plane), 0, 255).astype(np.uint8) for plane in (luma, cb, cr)]
    return b"".join(plane.tobytes() for plane in planes)


def _as_rgb_array(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        raise ValueError(f"need a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    if image.ndim == 3 and image.shape[2] == 4:
        return image[..., :3]
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise ValueError(f"need an HxW, HxWx3 (RGB) or HxWx4 (RGBA) image, got shape {image.shape}")


def letterbox(image: np.ndarray, *, width: int, height: int) -> np.ndarray:
    """Scale an RGB image to fit WxH keeping its aspect ratio, centred on black."""
    rgb = _as_rgb_array(image)
    source_height, source_width = rgb.shape[:2]
    if (source_width, source_height) == (width, height):
        return np.ascontiguousarray(rgb)
    scale = min(width / source_width, height / source_height)
    fitted_width = max(1, min(width, round(source_width * scale)))
    fitted_height = max(1, min(height, round(source_height * scale)))
    fitted = Image.fromarray(np.ascontiguousarray(rgb)).resize(
        (fitted_width, fitted_height), Image.Resampling.LANCZOS
    )
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    top = (height - fitted_height) // 2
    left = (width - fitted_width) // 2
    canvas[top : top + fitted_height, left : left + fitted_width] = np.asarray(fitted)
    return canvas


def read_rgb(path: Path) -> np.ndarray:
    """A photo as the camera would see it upright: EXIF orientation applied, alpha dropped."""
    with Image.open(path) as opened:
        upright = ImageOps.exif_transpose(opened)
        return np.asarray(upright.convert("RGB"))


def y4m_from_frames(
    frames: Iterable[np.ndarray],
    out_path: Path,
    *,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    fps: int = DEFAULT_FPS,
) -> Path:
    """Write RGB frames (letterboxed to WxH when their size differs) as a .y4m; streams, so videos fit."""
    if width % 2 or height % 2:
        raise ValueError(f"4:2:0 needs an even width and height, got {width}x{height}")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with out_path.open("wb") as stream:
        stream.write(y4m_header(width=width, height=height, fps=fps))
        for frame in frames:
            stream.write(b"FRAME\n")
            stream.write(rgb_to_i420(letterbox(frame, width=width, height=height)))
            written += 1
    if not written:
        out_path.unlink()
        raise ValueError("no frames: Chromium cannot open an empty .y4m")
    return out_path


def y4m_from_image(
    source: Path | np.ndarray,
    out_path: Path,
    *,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    frames: int = 1,
) -> Path:
    """A still photo (path, or RGB array) as a looping camera. One frame is enough: the file loops."""
    rgb = read_rgb(Path(source)) if not isinstance(source, np.ndarray) else source
    boxed = letterbox(rgb, width=width, height=height)
    return y4m_from_frames((boxed for _ in range(frames)), out_path, width=width, height=height)


def _video_frames(path: Path, *, max_seconds: float | None, fps: int) -> Iterator[np.ndarray]:
    import cv2  # tests may use OpenCV directly; only product code is limited to the biometrics/engine package

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"OpenCV cannot open the video {path}")
    try:
        source_fps = capture.get(cv2.CAP_PROP_FPS) or fps
        index = 0
        next_time = 0.0
        while True:
            ok, bgr = capture.read()
            if not ok:
                return
            timestamp = index / source_fps
            index += 1
            if max_seconds is not None and timestamp >= max_seconds:
                return
            # Keep real-time playback at the output rate: drop source frames (30 -> 15 fps) rather than
            # slowing the clip down, so head movement has its real speed for liveness checks.
            if timestamp + 1e-6 < next_time:
                continue
            next_time += 1 / fps
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()


def y4m_from_video(
    path: Path,
    out_path: Path,
    *,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    max_seconds: float | None = None,
    fps: int = DEFAULT_FPS,
) -> Path:
    """A video file (decoded with OpenCV) as a camera playing in real time at ``fps``, letterboxed to WxH."""
    frames = _video_frames(Path(path), max_seconds=max_seconds, fps=fps)
    return y4m_from_frames(frames, out_path, width=width, height=height, fps=fps)


def rgb_from_data_url(data_url: str) -> np.ndarray:
    """A ``canvas.toDataURL()`` capture from the page -> HxWx3 uint8 RGB."""
    header, _, payload = data_url.partition(",")
    if not header.startswith("data:image/") or ";base64" not in header:
        raise ValueError(f"not a base64 image data URL: {data_url[:40]!r}")
    with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
        return np.asarray(image.convert("RGB"))
