"""Material and arithmetic shared by the speed benchmarks: real portraits as 640x480 camera frames,
synthetic encodings, percentiles."""

from __future__ import annotations

import csv
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

FRAME_SIZE = (640, 480)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50 and p95 (nearest rank) of ``samples_ms``, and their count."""
    ordered = sorted(samples_ms)
    p95_index = min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[p95_index], 2),
        "n": len(ordered),
    }


def timed(function: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds taken by each of ``repeat`` calls of ``function``."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def portraits(faces: Path, *, per_identity: int | None = None) -> dict[str, list[Path]]:
    """The portraits listed in ``faces/MANIFEST.csv`` by identity (at most ``per_identity`` each)."""
    by_identity: dict[str, list[Path]] = {}
    with (faces / "MANIFEST.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["identity"] and row["kind"] == "portrait":
                paths = by_identity.setdefault(row["identity"], [])
                if per_identity is None or len(paths) < per_identity:
                    paths.append(faces / row["path"])
    return by_identity


def letterboxed(path: Path) -> np.ndarray:
    """The photo at ``path`` fitted into a black 640x480 frame, as a camera would deliver it."""
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail(FRAME_SIZE, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", FRAME_SIZE)
    canvas.paste(image, ((FRAME_SIZE[0] - image.width) // 2, (FRAME_SIZE[1] - image.height) // 2))
    return np.asarray(canvas)


def jpeg_variants(frame: np.ndarray, count: int) -> list[bytes]:
    """The same frame with faint noise: real cameras never send identical bytes, and the kiosk refuses
    identical frames as replays."""
    rng = np.random.default_rng(7)
    variants = []
    for _ in range(count):
        noisy = np.clip(frame.astype(np.int16) + rng.integers(-2, 3, frame.shape), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(noisy).save(buffer, format="JPEG", quality=85)
        variants.append(buffer.getvalue())
    return variants


def synthetic_encodings(count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random encodings: real ones have components of about ±0.1 and norms near 1, good enough to
    cost the same to search."""
    return rng.normal(0.0, 0.088, size=(count, 128)).astype(np.float32)
