"""Texture of the presentation instrument for ``benchmark_liveness --pad``: what a print or a screen does to
the pixels a camera sees, and what the kiosk page's camera path does to a real frame.

Numpy only. These are crude, SYNTHETIC stand-ins for real recaptures, and every figure from them says so.
"""

from __future__ import annotations

import math

import numpy as np

from biometrics import engine


def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return y, x


def print_texture(image: np.ndarray, rng: np.random.Generator, *, pitch: float = 2.5) -> np.ndarray:
    """A colour print seen by a camera: paper gamut (no deep black, dull colours), a CMY halftone dot
    screen at the printer's angles partly smoothed by the camera optics, and matte lighting (a soft
    gradient across the sheet, no highlight)."""
    img = image.astype(np.float32) / 255.0
    img = 0.12 + 0.76 * img
    grey = img.mean(axis=2, keepdims=True)
    img = grey + 0.8 * (img - grey)
    height, width = img.shape[:2]
    y, x = _grid(height, width)
    halftoned = np.empty_like(img)
    for channel, angle in enumerate((15.0, 75.0, 0.0)):
        radians = math.radians(angle)
        u = x * math.cos(radians) + y * math.sin(radians)
        v = -x * math.sin(radians) + y * math.cos(radians)
        dots = (np.cos(2 * math.pi * u / pitch) + np.cos(2 * math.pi * v / pitch)) / 4 + 0.5
        ink = ((1.0 - img[..., channel]) > dots).astype(np.float32)
        halftoned[..., channel] = 1.0 - 0.85 * ink
    mixed = 0.5 * halftoned + 0.5 * img  # dot gain and the camera's blur between dot and tone
    lighting = (0.85 + 0.2 * x / max(width - 1, 1))[..., None]
    noisy = mixed * lighting * 255.0 + rng.normal(0.0, 2.0, img.shape)
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


def screen_texture(
    image: np.ndarray, rng: np.random.Generator, *, grid: tuple[float, float] = (0.12, 0.10)
) -> np.ndarray:
    """A picture on a display, filmed close up: display gamma and raised black, a bluish cast, duller
    colours, the dark lines between pixel rows and columns (the panel's grid, which beats with the
    camera's sampling into moire), and a glare spot from a light behind the customer."""
    img = image.astype(np.float32) / 255.0
    grey = img.mean(axis=2, keepdims=True)
    img = grey + 0.75 * (img - grey)
    img = 0.1 + 0.8 * img**1.6
    img[..., 2] = img[..., 2] * 1.1 + 0.03
    height, width = img.shape[:2]
    y, x = _grid(height, width)
    lines = 1.0 - grid[0] * ((x % 3) < 1) - grid[1] * ((y % 3) < 1)
    img = img * lines[..., None]
    glare_x, glare_y = rng.uniform(0.5, 0.8) * width, rng.uniform(0.15, 0.35) * height
    img += 0.25 * np.exp(-((x - glare_x) ** 2 + (y - glare_y) ** 2) / (2 * (0.13 * width) ** 2))[..., None]
    noisy = img * 255.0 + rng.normal(0.0, 2.5, img.shape)
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


def browser_camera(image: np.ndarray) -> np.ndarray:
    """What the kiosk page sends for a camera frame: the frame in limited-range BT.601 YUV 4:2:0 (how
    Chromium reads a camera, tests' .y4m included), back to RGB, and the page's JPEG at quality 0.85."""
    rgb = image.astype(np.float32)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 16.0 + 0.257 * red + 0.504 * green + 0.098 * blue
    height, width = luma.shape
    even = rgb[: height - height % 2, : width - width % 2]
    pooled = even.reshape(height // 2, 2, width // 2, 2, 3).mean(axis=(1, 3))
    cb = 128.0 - 0.148 * pooled[..., 0] - 0.291 * pooled[..., 1] + 0.439 * pooled[..., 2]
    cr = 128.0 + 0.439 * pooled[..., 0] - 0.368 * pooled[..., 1] - 0.071 * pooled[..., 2]
    cb = np.repeat(np.repeat(cb, 2, axis=0), 2, axis=1) - 128.0
    cr = np.repeat(np.repeat(cr, 2, axis=0), 2, axis=1) - 128.0
    scaled = 1.164 * (np.round(luma[: cb.shape[0], : cb.shape[1]]) - 16.0)
    back = np.stack([scaled + 1.596 * cr, scaled - 0.392 * cb - 0.813 * cr, scaled + 2.017 * cb], axis=-1)
    decoded = np.clip(back + 0.5, 0, 255).astype(np.uint8)
    return engine.decode_image(engine.jpeg_encode(decoded, quality=85))
