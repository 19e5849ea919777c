"""benchmark_speed's card-less row: engine time per frame decision, card path against card-less.

The verification functions run for real (detection, encoding, comparisons, the 1:N check); only the
templates come from memory (real portraits, encoded once) instead of the database, so the figure is the
engine's work per decision, not the database's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np

from biometrics import engine
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
    result: dict[str, Any] = {}
    with mock.patch.object(verification, "customer_active_encodings", encodings):
        for name, decide in cases.items():
            samples = []
            for index in range(repeat):
                frame = usable[index % len(usable)]
                start = time.perf_counter()
                decide(frame)
                samples.append((time.perf_counter() - start) * 1000)
            result[name] = percentiles(samples)
    result["cardless_over_card_p50"] = round(result["cardless_3"]["p50"] / result["card_1to1"]["p50"], 3)
    return result
