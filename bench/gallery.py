"""The in-memory 1:N gallery on synthetic templates: search, add and remove timings (figures, not tests)."""

from __future__ import annotations

import time

import numpy as np

from biometrics.gallery import ENCODING_SIZE, Gallery
from biometrics.gallery_reid import REID_SIZE, ReidIndex


def gallery_benchmark(
    *, size: int, queries: int = 50, add_batches: int = 50, seed: int = 0
) -> dict[str, float]:
    """Search and add timings (ms) on ``size`` random unit-ish templates; for the engineering report.

    Not a test: figures depend on the machine. Run e.g.
    ``python manage.py benchmark_gallery --size 1000000``.
    """
    rng = np.random.default_rng(seed)
    gallery = Gallery(capacity=size)
    chunk = 100_000
    for start in range(0, size, chunk):
        count = min(chunk, size - start)
        vectors = rng.standard_normal((count, ENCODING_SIZE), dtype=np.float32) * np.float32(0.09)
        ids = np.arange(start, start + count)
        gallery.add(ids, ids // 10, vectors)
    dlib_mb = gallery.nbytes() / 1e6
    combined = second_model_rows(gallery, size=size, rng=rng)
    probes = rng.standard_normal((queries, ENCODING_SIZE), dtype=np.float32) * np.float32(0.09)
    gallery.nearest(probes[0])  # first touch of the pages is not what a warm server pays
    search = []
    for probe in probes:
        started = time.perf_counter()
        gallery.nearest(probe, exclude_customer_id=7)
        search.append(time.perf_counter() - started)
    adds = []
    next_id = size
    for _ in range(add_batches):
        vectors = rng.standard_normal((10, ENCODING_SIZE), dtype=np.float32) * np.float32(0.09)
        ids = np.arange(next_id, next_id + 10)
        started = time.perf_counter()
        gallery.add(ids, ids // 10, vectors)
        adds.append(time.perf_counter() - started)
        next_id += 10
    removes = []
    for batch in range(add_batches):
        revoked = range(size + batch * 10, size + batch * 10 + 10)
        started = time.perf_counter()
        gallery.remove(revoked)
        removes.append(time.perf_counter() - started)
    return {
        "size": float(size),
        "search_p50_ms": float(np.percentile(search, 50) * 1000),
        "search_p95_ms": float(np.percentile(search, 95) * 1000),
        "add10_p50_ms": float(np.percentile(adds, 50) * 1000),
        "add10_max_ms": float(np.max(adds) * 1000),
        "remove10_p50_ms": float(np.percentile(removes, 50) * 1000),
        "nbytes_mb": gallery.nbytes() / 1e6,
        "dlib_nbytes_mb": dlib_mb,
        **combined,
    }


def second_model_rows(gallery: Gallery, *, size: int, rng: np.random.Generator) -> dict[str, float]:
    """Every template also with a second-model row (after ``reencode_templates``), and the combined search
    the shards run (dlib skipping those rows, then the second model with per-template shifts)."""
    reid = ReidIndex(capacity=size)
    chunk = 100_000
    for start in range(0, size, chunk):
        count = min(chunk, size - start)
        vectors = rng.standard_normal((count, REID_SIZE), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = list(range(start, start + count))
        # Shifts as measured on faces-diverse (10th to 95th percentile 0.20-0.36).
        reid.add(ids, [i // 10 for i in ids], vectors, rng.uniform(0.2, 0.36, count).tolist())
    gallery.reid = reid
    gallery.mark_second(range(size))
    timings = []
    for _ in range(20):
        dlib_probe = rng.standard_normal(ENCODING_SIZE, dtype=np.float32) * np.float32(0.09)
        probe = rng.standard_normal(REID_SIZE, dtype=np.float32)
        probe /= np.linalg.norm(probe)
        started = time.perf_counter()
        gallery.nearest(dlib_probe, exclude_customer_id=7, skip_second=True)
        reid.nearest(probe, exclude_customer_id=7)
        timings.append(time.perf_counter() - started)
    return {
        "combined_search_p50_ms": float(np.percentile(timings, 50) * 1000),
        "combined_search_p95_ms": float(np.percentile(timings, 95) * 1000),
        "reid_nbytes_mb": reid.nbytes() / 1e6,
    }
