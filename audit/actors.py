"""Who an audited change is attributed to."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

# A member of staff (request.user in the back office and the staff API), the anonymous user of a request
# nobody signed in to, or None when no person acts (a kiosk customer's own operation, a scheduled task).
Actor: TypeAlias = User | AnonymousUser | None


def actor_user(actor: Actor) -> User | None:
    """The stored user behind an actor, for a foreign key to the user table; None for anyone else."""
    return actor if isinstance(actor, User) and actor.pk is not None else None
