"""benchmark_speed's card-less row: engine time per frame decision, card path against card-less.

The verification functions run for real (detection, encoding, comparisons, the 1:N search in process);
only the templates come from memory (real portraits, encoded once) instead of the database, so the figure
is the engine's work per decision, not the database's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np

from biometrics import engine
from biometrics.gallery import Gallery
from biometrics.matcher import Nearest
from biometrics.services import verification


def cardless_speed(
    frames: list[np.ndarray],
    templates: list[np.ndarray],
    repeat: int,
    percentiles: Callable[[list[float]], Any],
) -> dict[str, Any]:
    """p50/p95 ms per frame: card path (1:1), card-less with 1, 3 and 5 candidates, and an unknown number."""
    usable = [frame for frame in frames if len(engine.detect_faces(frame, purpose="live")) == 1]
    # Customer i owns template i; the probe frames are of other photos, so some match and some do not.
    store = {index + 1: np.asarray([encoding], dtype=np.float32) for index, encoding in enumerate(templates)}

    def encodings(*, customer_id: int, state: Any = None) -> np.ndarray:
        return store.get(customer_id, np.empty((0, 128), dtype=np.float32))

    cases: dict[str, Callable[[np.ndarray], Any]] = {
        "card_1to1": lambda frame: verification.frame_verify(customer_id=1, image=frame),
        "cardless_1": lambda frame: verification.frame_verify_candidates(customer_ids=[1], image=frame),
        "cardless_3": lambda frame: verification.frame_verify_candidates(customer_ids=[1, 2, 3], image=frame),
        "cardless_5": lambda frame: verification.frame_verify_candidates(
            customer_ids=[1, 2, 3, 4, 5], image=frame
        ),
        "cardless_unknown_number": lambda frame: verification.frame_verify_candidates(
            customer_ids=[], image=frame
        ),
    }
    # The 1:N check runs against a gallery of 1,000 customers (synthetic) plus the five real ones.
    gallery = Gallery(capacity=10_100)
    rng = np.random.default_rng(7)
    synthetic = rng.normal(size=(10_000, 128)).astype(np.float32)
    synthetic /= np.linalg.norm(synthetic, axis=1, keepdims=True) / 0.6
    gallery.add(np.arange(10_000), np.arange(10_000) // 10 + 1_000_000, synthetic)
    gallery.add(np.arange(10_000, 10_000 + len(store)), list(store), np.vstack(list(store.values())))

    def nearest(*, probes: np.ndarray, exclude_customer_id: int | None = None, **_: Any) -> Nearest:
        # The matcher tier's answer, computed in this process (one shard that always answers in time).
        hit = gallery.nearest(probes, exclude_customer_id=exclude_customer_id)
        return Nearest(hit.customer_id if hit else None, hit.distance if hit else None, 1, 1)

    samples: dict[str, list[float]] = {name: [] for name in cases}
    with (
        mock.patch.object(verification, "customer_active_encodings", encodings),
        mock.patch.object(verification, "gallery_state_read", lambda: (0, 0)),
        mock.patch.object(verification, "match_nearest", nearest),
        # The synthetic customers have dlib encodings only: compared by dlib, as before the second model.
        mock.patch.object(verification.second_model, "frame_scores", lambda **_: (None, None)),
        mock.patch.object(verification.second_model, "candidate_distance", lambda **_: None),
    ):
        # Interleaved, each case on the same frame in turn: a shared, busy machine slows all cases alike.
        for index in range(repeat):
            frame = usable[index % len(usable)]
            for name, decide in cases.items():
                start = time.perf_counter()
                decide(frame)
                samples[name].append((time.perf_counter() - start) * 1000)
    result: dict[str, Any] = {name: percentiles(values) for name, values in samples.items()}
    result["cardless_over_card_p50"] = round(result["cardless_3"]["p50"] / result["card_1to1"]["p50"], 3)
    return result
