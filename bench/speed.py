"""The in-process rows of `manage.py benchmark_speed`: the engine's floor, the gallery, the product's
per-frame work against the seed project's, enrolment encoding and the card-less decision. Figures, not
assertions."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from bench.cardless import cardless_speed
from bench.frames import letterboxed, percentiles, synthetic_encodings, timed
from bench.gallery import second_model_rows
from bench.seed import SeedReference
from biometrics import engine
from biometrics.gallery import Gallery

Log = Callable[[str], None]


def engine_floor(
    frames: list[np.ndarray], repeat: int, log: Log, *, pad: bool = False, second: bool = False
) -> dict[str, float]:
    """Bare detection (the product's live downscale) plus one encoding of the same frame; with ``pad``, plus
    the PAD models' score of its face crop (settings.PAD_MODELS), as an owner-matching frame gets. With
    ``second``, the second model's path of a frame that matches its owner instead of the dlib encoding: HOG
    detection (its 68 landmarks drive liveness and quality), YuNet and the face-reid-0095 embedding."""
    usable = [frame for frame in frames if len(engine.detect_faces(frame, purpose="live")) == 1]
    if pad:
        engine.pad_warm_up(settings.PAD_MODELS)
    samples = []
    for index in range(repeat):
        frame = usable[index % len(usable)]
        start = time.perf_counter()
        face = engine.detect_faces(frame, purpose="live")[0]
        if second:
            yunet = engine.detect_faces_yunet(frame)[0]
            engine.encode_face_reid(frame, yunet.landmarks)
        else:
            engine.encode_face(frame, face)
        if pad:
            engine.pad_score(frame, face.box, models=settings.PAD_MODELS)
        samples.append((time.perf_counter() - start) * 1000)
    result = percentiles(samples)
    log(f"engine floor{' with PAD' if pad else ''}{' (second model)' if second else ''}: {result}")
    return result


class _Owner:
    """The card holder in front of the kiosk: one frame with one face, and ten stored templates of it."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frame = next(frame for frame in frames if len(engine.detect_faces(frame, purpose="live")) == 1)
        self.face = engine.detect_faces(self.frame, purpose="live")[0]
        self.templates = np.stack([engine.encode_face(self.frame, self.face)] * 10)

    def product_frame(self) -> None:
        # The product's per-frame work in a web worker at any gallery size: live detection, one encoding,
        # the owner's templates (1:1). The 1:N search runs on the matcher tier, and only for a frame that
        # does not match the owner (matcher_tier.query_ms).
        face = engine.detect_faces(self.frame, purpose="live")[0]
        encoding = engine.encode_face(self.frame, face)
        engine.distances(self.templates, encoding)


def gallery_and_seed(frames: list[np.ndarray], sizes: list[int], repeat: int, log: Log) -> dict[str, Any]:
    """Per gallery size: the in-memory search and its memory, the product's frame, the seed's frame."""
    rng = np.random.default_rng(42)
    owner = _Owner(frames)
    seed_reference = SeedReference()
    report: dict[str, Any] = {
        name: {} for name in ("gallery_search_ms", "gallery_memory_bytes", "product_path_ms", "seed_path_ms")
    }
    report["speedup_vs_seed"] = {}
    report["incremental_add_ms"] = None
    for size in sizes:
        key = str(size)
        synthetic = synthetic_encodings(size, rng)
        gallery = Gallery(capacity=size + 64)
        gallery.add(np.arange(size), np.arange(size) // 10 + 1_000_000, synthetic)
        probe = engine.encode_face(owner.frame, owner.face)
        search = report["gallery_search_ms"][key] = percentiles(
            timed(partial(gallery.nearest, probe), max(repeat, 50))
        )
        memory = report["gallery_memory_bytes"][key] = gallery.nbytes()
        # With every template re-encoded by the second model: the shards' combined search and memory.
        report.setdefault("gallery_combined", {})[key] = second_model_rows(gallery, size=size, rng=rng)
        if size == 100_000 or (report["incremental_add_ms"] is None and size == max(sizes)):
            report["incremental_add_ms"] = incremental_add(gallery, rng, repeat, log)
        product_samples = timed(owner.product_frame, max(5, repeat // 3))
        product = report["product_path_ms"][key] = percentiles(product_samples)
        # The seed kept every encoding as float64 arrays in a Python list (its pickle); compare_faces turns
        # that list into one array on every frame.
        known = [row.astype(np.float64) for row in synthetic] + list(owner.templates.astype(np.float64))
        del gallery
        seed_repeat = max(10, repeat // (10 if size >= 1_000_000 else 3))
        seed = report["seed_path_ms"][key] = percentiles(
            timed(partial(seed_reference.frame_matches, owner.frame, known), seed_repeat)
        )
        del known
        speedup = report["speedup_vs_seed"][key] = round(seed["p50"] / product["p50"], 1)
        log(f"N={size}: search {search}, product {product}, seed {seed}, x{speedup}, {memory / 1e6:.0f} MB")
    return report


def incremental_add(gallery: Gallery, rng: np.random.Generator, repeat: int, log: Log) -> dict[str, float]:
    """One enrolled customer (10 templates) added to the in-memory gallery; the seed retrained all."""
    samples = []
    base = 10_000_000
    for index in range(max(repeat, 20)):
        ids = np.arange(base + index * 10, base + index * 10 + 10)
        encodings = synthetic_encodings(10, rng)
        start = time.perf_counter()
        gallery.add(ids, np.full(10, 9_000_000 + index), encodings)
        samples.append((time.perf_counter() - start) * 1000)
        gallery.remove(ids.tolist())
    result = percentiles(samples)
    result["gallery_size"] = len(gallery)
    log(f"incremental add: {result}")
    return result


def enrol_encode(portraits: dict[str, list[Path]], log: Log) -> float:
    """Ten enrolment photos through the enrolment path (decode, detect with fallbacks, encode)."""
    photos = [path.read_bytes() for paths in portraits.values() for path in paths][:10]
    start = time.perf_counter()
    for data in photos:
        image = engine.decode_image(data)
        faces = engine.detect_faces(image, purpose="enrol")
        engine.encode_face(image, faces[0])
    seconds = round(time.perf_counter() - start, 2)
    log(f"enrol encode ({len(photos)} photos): {seconds} s")
    return seconds


def cardless(frames: list[np.ndarray], portraits: dict[str, list[Path]], repeat: int, log: Log) -> dict:
    """The card-less decision against the card path, with up to five real customers' templates."""
    templates: list[np.ndarray] = []
    for frame in (letterboxed(paths[0]) for paths in portraits.values()):
        found = engine.detect_faces(frame, purpose="enrol")
        if found and len(templates) < 5:
            templates.append(engine.encode_face(frame, found[0]))
    result = cardless_speed(frames, templates, repeat, percentiles)
    log(f"card-less decision: {result}")
    return result
