"""The in-memory 1:N gallery shards of a matcher process, kept in step with the database by version deltas.

Only matcher processes import this module (a Celery worker on a `match.<k>` queue, or the web process itself
in the in-process mode of `make run`); web workers in production never do. A process holds the shards it
serves: shard k of S is every active template whose customer_id % S == k. On every use it reads
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
from django.db.models.functions import Mod

from biometrics import engine
from biometrics.gallery import Gallery
from biometrics.gallery_reid import ReidIndex
from biometrics.models import ENCODING_SIZE, REID_ENCODING_SIZE, FaceTemplate, GalleryState, encoding_unpack
from biometrics.services.gallery_state import gallery_state_lock, gallery_state_read, gallery_version_bump

__all__ = [
    "gallery_current",
    "gallery_rebuild",
    "gallery_rebuild_request",
    "gallery_reset",
    "gallery_shard_current",
    "gallery_state_lock",
    "gallery_state_read",
    "gallery_version_bump",
]

logger = logging.getLogger(__name__)

_CHUNK = 5000


@dataclass
class _Held:
    gallery: Gallery
    epoch: int
    pid: int


# (shard, shards) -> the shard this process holds.
_held: dict[tuple[int, int], _Held] = {}
# Gallery mutations are not thread-safe; one lock per process also stops two threads loading the same delta.
_lock = threading.Lock()


def _active_at(version: int) -> Q:
    return Q(engine_version=engine.ENGINE_VERSION, gallery_added_version__lte=version) & (
        Q(gallery_revoked_version__isnull=True) | Q(gallery_revoked_version__gt=version)
    )


def _in_shard(queryset: QuerySet[FaceTemplate], shard: int, shards: int) -> QuerySet[FaceTemplate]:
    if shards <= 1:
        return queryset
    return queryset.annotate(shard_key=Mod("customer_id", shards)).filter(shard_key=shard)


def _load_reid(gallery: Gallery, queryset: QuerySet[FaceTemplate]) -> None:
    """The second-model templates of these rows into the shard's ReidIndex (marked in the dlib gallery)."""
    from biometrics.services.second_model import REID_VERSION

    if gallery.reid is None:
        gallery.reid = ReidIndex()
    rows = list(
        queryset.filter(reid_version=REID_VERSION, reid_shift__isnull=False).values_list(
            "id", "customer_id", "reid_encoding", "reid_shift"
        )
    )
    if not rows:
        return
    ids = [row[0] for row in rows]
    vectors = np.vstack([encoding_unpack(row[2], size=REID_ENCODING_SIZE) for row in rows])
    gallery.reid.add(ids, [row[1] for row in rows], vectors, [float(row[3] or 0.0) for row in rows])
    gallery.mark_second(ids)


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
    _load_reid(gallery, queryset)
    return loaded


def _full_load(version: int, epoch: int, shard: int = 0, shards: int = 1) -> _Held:
    started = time.perf_counter()
    active = _in_shard(FaceTemplate.objects.filter(_active_at(version)), shard, shards)
    # Sized once from a count: each doubling of a growing matrix copies it (~1.4 s at 10^6 rows).
    gallery = Gallery(capacity=active.count() + 1024)
    count = _load_into(gallery, active.order_by("id"))
    gallery.version = version
    logger.info(
        "gallery shard %d/%d loaded: %d templates at v%d in %.0f ms",
        shard,
        shards,
        count,
        version,
        (time.perf_counter() - started) * 1e3,
    )
    return _Held(gallery=gallery, epoch=epoch, pid=os.getpid())


def _apply_delta(gallery: Gallery, old: int, new: int, shard: int = 0, shards: int = 1) -> None:
    # Exact set difference between the active sets at `old` and `new` (see _active_at): rows activated in
    # (old, new] and still active at `new`, minus rows that were active at `old` and revoked in (old, new].
    removed = list(
        _in_shard(
            FaceTemplate.objects.filter(
                engine_version=engine.ENGINE_VERSION,
                gallery_added_version__lte=old,
                gallery_revoked_version__gt=old,
                gallery_revoked_version__lte=new,
            ),
            shard,
            shards,
        ).values_list("id", flat=True)
    )
    if removed:
        gallery.remove(removed)
        if gallery.reid is not None:
            gallery.reid.remove(removed)
    added = _in_shard(
        FaceTemplate.objects.filter(
            Q(
                engine_version=engine.ENGINE_VERSION,
                gallery_added_version__gt=old,
                gallery_added_version__lte=new,
            )
            & (Q(gallery_revoked_version__isnull=True) | Q(gallery_revoked_version__gt=new))
        ),
        shard,
        shards,
    ).order_by("id")
    _load_into(gallery, added)
    gallery.version = new


def gallery_shard_current(
    *, shard: int, shards: int, state: GalleryState | None = None, min_version: int = 0
) -> Gallery:
    """Shard `shard` of `shards` held by this process, brought up to the committed version (or to `state`,
    when the caller holds the GalleryState lock and must see exactly that version).

    `min_version` is the version the asker saw: a committed read is never older than it, but a replica
    lagging behind its primary could be, and then the answer would miss the newest enrolments.
    """
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not one of {shards}")
    version, epoch = (state.version, state.epoch) if state is not None else gallery_state_read()
    if version < min_version:
        raise RuntimeError(f"gallery version {version} read, the asker already saw {min_version}")
    key = (shard, shards)
    with _lock:
        held = _held.get(key)
        if held is None or held.pid != os.getpid() or held.epoch != epoch or held.gallery.version > version:
            _held[key] = held = _full_load(version, epoch, shard, shards)
        elif held.gallery.version < version:
            _apply_delta(held.gallery, held.gallery.version, version, shard, shards)
        return held.gallery


def gallery_current(*, state: GalleryState | None = None) -> Gallery:
    """The whole gallery as one shard (management commands, tests)."""
    return gallery_shard_current(shard=0, shards=1, state=state)


def gallery_rebuild() -> Gallery:
    """Reload this process's whole gallery from the database (used by the rebuild task and command); other
    shards this process holds reload on their next use through the epoch."""
    version, epoch = gallery_state_read()
    with _lock:
        _held[(0, 1)] = held = _full_load(version, epoch)
        return held.gallery


@transaction.atomic
def gallery_rebuild_request() -> GalleryState:
    """Make every process reload in full on its next use (after restoring templates by hand, for example)."""
    state = gallery_state_lock()
    state.epoch += 1
    state.save(update_fields=["epoch", "updated_at"])
    return state


def gallery_reset() -> None:
    """Forget this process's gallery (tests: the database is rolled back under a process-global object)."""
    with _lock:
        _held.clear()
