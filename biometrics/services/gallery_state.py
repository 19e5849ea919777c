"""The version of the matchable template set (GalleryState): read, lock, bump.

Kept apart from `gallery_sync` so that web processes, which only need the version as a cache key for the
claimed customer's templates, never import the in-memory 1:N gallery.
"""

from __future__ import annotations

from django.db import transaction

from biometrics.models import GalleryState


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
