"""Server-side JPEG thumbnails of decrypted snapshots (Pillow; the face engine is not needed to look)."""

from __future__ import annotations

import base64
import io

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

THUMBNAIL_SIZE = (240, 180)


def thumbnail_jpeg(image: bytes, *, size: tuple[int, int] = THUMBNAIL_SIZE) -> bytes | None:
    """A small JPEG of `image`, or None when it cannot be read as an image (never raises on bad bytes)."""
    try:
        with Image.open(io.BytesIO(image)) as picture:
            width, height = picture.size
            # Refuse decompression bombs before decoding a single pixel.
            if width * height > settings.IMAGE_MAX_PIXELS:
                return None
            picture.draft("RGB", size)  # JPEG: let the decoder downscale, much cheaper than full decode
            small = ImageOps.exif_transpose(picture).convert("RGB")
            small.thumbnail(size)
            out = io.BytesIO()
            small.save(out, format="JPEG", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def data_uri(jpeg: bytes) -> str:
    # Inline, so each thumbnail needs no URL of its own and a page of them is one request and one event.
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
