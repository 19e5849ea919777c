"""The row bookkeeping the two in-memory 1:N indexes share (``gallery.Gallery`` for dlib encodings,
``gallery_reid.ReidIndex`` for the second model): numpy columns of equal length keyed by template id,
preallocated and doubled when full (a full load that knows its row count passes it: each doubling copies
every column), rows removed by moving the last row into the gap, so the used rows stay ``[:size]`` and one
matrix product scores them all. Each index keeps its own scoring.

Safe to share between threads: ``_lock`` serialises mutation against queries (numpy releases the GIL during
a product, so without it a concurrent ``add`` could swap the arrays mid-query).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np


class RowStore:
    # The attribute names of the columns, each an array whose first axis is the row; must include
    # "_template_ids".
    _columns: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._size = 0
        self._row_of: dict[int, int] = {}
        self._template_ids: np.ndarray

    def __len__(self) -> int:
        return self._size

    def __contains__(self, template_id: object) -> bool:
        return template_id in self._row_of

    def _columns_nbytes(self) -> int:
        """Bytes held by the columns (allocated capacity, not just the used rows)."""
        return sum(getattr(self, name).nbytes for name in self._columns)

    def _reserve(self, needed: int) -> None:
        capacity = len(self._template_ids)
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        size = self._size
        for name in self._columns:
            old = getattr(self, name)
            grown = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            grown[:size] = old[:size]
            setattr(self, name, grown)

    def remove(self, template_ids: Iterable[int]) -> None:
        """Revoke templates; unknown ids are ignored (revocation is idempotent)."""
        with self._lock:
            for template_id in template_ids:
                row = self._row_of.pop(int(template_id), None)
                if row is None:
                    continue
                last = self._size - 1
                columns = [getattr(self, name) for name in self._columns]
                if row != last:
                    for column in columns:
                        column[row] = column[last]
                    self._row_of[int(self._template_ids[row])] = row
                # Zero the vacated row so a revoked template's vector does not linger in memory.
                for column in columns:
                    column[last] = 0
                self._size = last
