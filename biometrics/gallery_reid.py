"""In-memory 1:N index of second-model templates (pure numpy): unit vectors and their per-template shifts.

The matcher tier compares as the 1:1 does (``biometrics.comparison.normalised_scores``): a template's
score for a probe is ``(1 - cosine) + shift``, the shift fixed at enrolment. Rows are kept by
``row_store.RowStore``, as ``gallery.Gallery``'s; one matrix product per query.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from biometrics.comparison import normalised_scores
from biometrics.gallery import Match
from biometrics.row_store import RowStore

REID_SIZE = 256


class ReidIndex(RowStore):
    """Second-model templates of one gallery shard: (N, 256) float32 unit vectors and (N,) shifts."""

    _columns = ("_vectors", "_shifts", "_template_ids", "_customer_ids")

    def __init__(self, *, capacity: int = 64) -> None:
        super().__init__()
        capacity = max(int(capacity), 1)
        self._vectors = np.zeros((capacity, REID_SIZE), dtype=np.float32)
        self._shifts = np.zeros(capacity, dtype=np.float32)
        self._template_ids = np.zeros(capacity, dtype=np.int64)
        self._customer_ids = np.zeros(capacity, dtype=np.int64)

    def nbytes(self) -> int:
        return self._columns_nbytes()

    def add(
        self,
        template_ids: Sequence[int],
        customer_ids: Sequence[int],
        vectors: np.ndarray,
        shifts: Sequence[float],
    ) -> None:
        """Insert templates; a template id already present is replaced."""
        rows = np.asarray(vectors, dtype=np.float32).reshape(-1, REID_SIZE)
        if not (len(template_ids) == len(customer_ids) == len(rows) == len(shifts)):
            raise ValueError("template_ids, customer_ids, vectors and shifts must have the same length")
        with self._lock:
            for template_id, customer_id, vector, shift in zip(
                template_ids, customer_ids, rows, shifts, strict=True
            ):
                row = self._row_of.get(int(template_id))
                if row is None:
                    self._reserve(self._size + 1)
                    row, self._size = self._size, self._size + 1
                    self._row_of[int(template_id)] = row
                self._vectors[row] = vector
                self._shifts[row] = float(shift)
                self._template_ids[row] = int(template_id)
                self._customer_ids[row] = int(customer_id)

    def nearest(self, probe: np.ndarray, *, exclude_customer_id: int | None = None) -> Match | None:
        """The template with the smallest score ``(1 - cosine) + shift`` (the ``distance``)."""
        vector = np.asarray(probe, dtype=np.float32).reshape(-1)
        if vector.shape != (REID_SIZE,):
            raise ValueError(f"probe must have {REID_SIZE} values")
        with self._lock:
            size = self._size
            if size == 0:
                return None
            # float32 for the ranking (one matrix-vector product); the winner's score again in float64.
            scores = self._vectors[:size] @ vector
            np.subtract(np.float32(1.0), scores, out=scores)
            scores += self._shifts[:size]
            if exclude_customer_id is not None:
                scores[self._customer_ids[:size] == exclude_customer_id] = np.inf
            row = int(np.argmin(scores))
            if not np.isfinite(scores[row]):
                return None
            exact = normalised_scores(self._vectors[row], self._shifts[row : row + 1], vector)[0]
            return Match(int(self._template_ids[row]), int(self._customer_ids[row]), float(exact))
