"""The per-process 1:N gallery, kept in step with the database by version deltas.

Each process (gunicorn worker, Celery worker) holds one in-memory `Gallery`. On every use it reads
`GalleryState` (one primary-key query). If the version moved, it asks only for the templates whose
`gallery_added_version` / `gallery_revoked_version` lie in (held version, current version] — an indexed
query returning the handful of rows one enrolment or revocation touched. A full load happens only at the first
use in a process, after a fork, when the epoch changes (`manage.py rebuild_gallery`), or if the database is
behind the process (restored backup, test database).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Q, QuerySet

from biometrics import engine
from biometrics.gallery import Gallery
from biometrics.models import ENCODING_SIZE, FaceTemplate, GalleryState, encoding_unpack

logger = logging.getLogger(__name__)

_CHUNK = 5000


@dataclass
class _Held:
    gallery: Gallery
    epoch: int
    pid: int


_held: _Held | None = None
# Gallery mutations are not thread-safe; one lock per process also stops two threads loading the same delta.
_lock = threading.Lock()


def gallery_state_read() -> tuple[int, int]:
    """(version, epoch) of the committed gallery; (0, 0) before the first template was ever activated."""
    row = GalleryState.objects.filter(id=1).values_list("version", "epoch").first()
    return (row[0], row[1]) if row else (0, 0)


def gallery_state_lock() -> GalleryState:
    """Lock the singleton for a change of the matchable set. Take it before audit_event_record."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("gallery_state_lock must run inside the transaction that changes templates")
    state, _ = GalleryState.objects.select_for_update().get_or_create(id=1)
    return state


def gallery_version_bump(*, state: GalleryState) -> int:
    """Next version, stamped by the caller on every row it adds or revokes in this same transaction."""
    state.version += 1
    state.save(update_fields=["version", "updated_at"])
    return state.version


def _active_at(version: int) -> Q:
    return Q(engine_version=engine.ENGINE_VERSION, gallery_added_version__lte=version) & (
        Q(gallery_revoked_version__isnull=True) | Q(gallery_revoked_version__gt=version)
    )


def _load_into(gallery: Gallery, queryset: QuerySet[FaceTemplate]) -> int:
    loaded = 0
    ids: list[int] = []
    customers: list[int] = []
    vectors: list[np.ndarray] = []

    def flush() -> None:
        nonlocal loaded
        if ids:
            gallery.add(
                np.asarray(ids, dtype=np.int64),
                np.asarray(customers, dtype=np.int64),
                np.vstack(vectors).astype(np.float32).reshape(-1, ENCODING_SIZE),
            )
            loaded += len(ids)
            ids.clear()
            customers.clear()
            vectors.clear()

    rows = queryset.values_list("id", "customer_id", "encoding").iterator(chunk_size=_CHUNK)
    for template_id, customer_id, encoding in rows:
        ids.append(template_id)
        customers.append(customer_id)
        vectors.append(encoding_unpack(encoding))
        if len(ids) >= _CHUNK:
            flush()
    flush()
    return loaded


def _full_load(version: int, epoch: int) -> _Held:
    started = time.perf_counter()
    gallery = Gallery()
    count = _load_into(gallery, FaceTemplate.objects.filter(_active_at(version)).order_by("id"))
    gallery.version = version
    logger.info(
        "gallery loaded: %d templates at v%d in %.0f ms",
        count,
        version,
        (time.perf_counter() - started) * 1e3,
    )
    return _Held(gallery=gallery, epoch=epoch, pid=os.getpid())


def _apply_delta(gallery: Gallery, old: int, new: int) -> None:
    # Exact set difference between the active sets at `old` and `new` (see _active_at): rows activated in
    # (old, new] and still active at `new`, minus rows that were active at `old` and revoked in (old, new].
    removed = list(
        FaceTemplate.objects.filter(
            engine_version=engine.ENGINE_VERSION,
            gallery_added_version__lte=old,
            gallery_revoked_version__gt=old,
            gallery_revoked_version__lte=new,
        ).values_list("id", flat=True)
    )
    if removed:
        gallery.remove(removed)
    added = FaceTemplate.objects.filter(
        Q(engine_version=engine.ENGINE_VERSION, gallery_added_version__gt=old, gallery_added_version__lte=new)
        & (Q(gallery_revoked_version__isnull=True) | Q(gallery_revoked_version__gt=new))
    ).order_by("id")
    _load_into(gallery, added)
    gallery.version = new


def gallery_current(*, state: GalleryState | None = None) -> Gallery:
    """This process's gallery, brought up to the committed version (or to `state`, when the caller holds the
    GalleryState lock and must see exactly that version)."""
    global _held
    version, epoch = (state.version, state.epoch) if state is not None else gallery_state_read()
    with _lock:
        held = _held
        if held is None or held.pid != os.getpid() or held.epoch != epoch or held.gallery.version > version:
            _held = held = _full_load(version, epoch)
        elif held.gallery.version < version:
            _apply_delta(held.gallery, held.gallery.version, version)
        return held.gallery


def gallery_rebuild() -> Gallery:
    """Reload this process's gallery from the database (used by the rebuild task and command)."""
    global _held
    version, epoch = gallery_state_read()
    with _lock:
        _held = _full_load(version, epoch)
        return _held.gallery


@transaction.atomic
def gallery_rebuild_request() -> GalleryState:
    """Make every process reload in full on its next use (after restoring templates by hand, for example)."""
    state = gallery_state_lock()
    state.epoch += 1
    state.save(update_fields=["epoch", "updated_at"])
    return state


def gallery_reset() -> None:
    """Forget this process's gallery (tests: the database is rolled back under a process-global object)."""
    global _held
    with _lock:
        _held = None
