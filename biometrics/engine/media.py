"""Decoding uploads and captured frames into RGB arrays, and clips into frames; JPEG for snapshots.

Pillow reads still images (header checked before any pixel is decoded); OpenCV's bundled FFmpeg reads clips.
"""

from __future__ import annotations

import io
import logging
import tempfile
import warnings

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps

from .types import ImageRejected

logger = logging.getLogger(__name__)

ALLOWED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
# Branch enrolment may upload a short clip instead of ten stills.
VIDEO_MAX_BYTES = 20 * 1024 * 1024


def decode_image(data: bytes, *, max_pixels: int = 25_000_000) -> np.ndarray:
    """Decode an uploaded/captured image into an HxWx3 uint8 RGB array (C-contiguous).

    The pixel count is read from the header and checked before any pixel data is decoded, so a
    small file that claims to be 20000x20000 (a decompression bomb) costs nothing.
    """
    if not data:
        raise ImageRejected("empty", "The image is empty.")
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Importing face_recognition flips this process-wide; a truncated upload would then decode
        # to a grey-padded image instead of being refused. The product never wants that.
        logger.warning("PIL.ImageFile.LOAD_TRUNCATED_IMAGES was on; switching it off")
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    # Pillow's parsers raise a variety of exception types on hostile input (OSError, SyntaxError,
    # struct.error, ...); whatever they raise is the data's fault and becomes a refusal, never a 500.
    try:
        with warnings.catch_warnings():
            # Our own limit below is stricter; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageRejected("too_large", "The image has too many pixels.") from exc
    except Exception as exc:
        raise ImageRejected("not_an_image", "The data is not a recognised image.") from exc

    with image:
        if image.format not in ALLOWED_FORMATS:
            raise ImageRejected("unsupported_format", "Only JPEG, PNG and WebP images are accepted.")
        width, height = image.size
        if width <= 0 or height <= 0:
            raise ImageRejected("corrupt", "The image has no pixels.")
        if width * height > max_pixels:
            raise ImageRejected(
                "too_large", f"The image is {width}x{height}; at most {max_pixels:,} pixels are accepted."
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image.load()
                array = np.asarray(_to_rgb(ImageOps.exif_transpose(image)), dtype=np.uint8)
        except Exception as exc:
            raise ImageRejected("corrupt", "The image data is damaged or incomplete.") from exc

    if array.ndim != 3 or array.shape[2] != 3:
        raise ImageRejected("corrupt", "The image could not be converted to colour.")
    return np.ascontiguousarray(array)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: convert("RGB") would clip everything above 255 to white.
        wide = np.asarray(image, dtype=np.float64)
        peak = max(float(wide.max()), 1.0)
        image = Image.fromarray((wide * (255.0 / peak)).astype(np.uint8), mode="L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        # Transparent pixels carry arbitrary colour (often black); put them on white like a browser.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("expected an HxWx3 uint8 RGB array (use decode_image)")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError("empty image")
    return np.ascontiguousarray(image)


def decode_video_frames(
    data: bytes, *, max_frames: int = 150, max_pixels: int = 2_100_000, every: int = 1
) -> list[np.ndarray]:
    """Decode a short clip (WebM/MP4/...) into RGB frames, at most ``max_frames``, keeping every ``every``-th.

    OpenCV's bundled FFmpeg reads only from a path, so the bytes go to a private temporary file. Frame size
    is checked on the first frame (a 4K clip would cost seconds per frame to analyse) and refused over
    ``max_pixels``.
    """
    if not data:
        raise ImageRejected("empty", "The clip is empty.")
    if len(data) > VIDEO_MAX_BYTES:
        raise ImageRejected("too_large", "The clip is too large (at most 20 MB).")
    frames: list[np.ndarray] = []
    with tempfile.NamedTemporaryFile(suffix=".video") as handle:
        handle.write(data)
        handle.flush()
        capture = cv2.VideoCapture(handle.name)
        try:
            if not capture.isOpened():
                raise ImageRejected("not_a_video", "The data is not a recognised video clip.")
            index = 0
            while len(frames) < max_frames:
                ok, bgr = capture.read()
                if not ok or bgr is None:
                    break
                if bgr.shape[0] * bgr.shape[1] > max_pixels:
                    raise ImageRejected("too_large", "The clip's frames are too large (at most 1920x1080).")
                if index % every == 0:
                    frames.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
                index += 1
        finally:
            capture.release()
    if not frames:
        raise ImageRejected("not_a_video", "The clip has no readable frames.")
    return frames


def jpeg_encode(image: np.ndarray, *, quality: int = 85) -> bytes:
    """RGB array → JPEG bytes (snapshots, stills picked from a clip)."""
    ok, buffer = cv2.imencode(
        ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()
