"""Who an audited change is attributed to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User


@dataclass(frozen=True)
class CustomerActor:
    """A customer acting for themselves in the customer portal: recorded as actor_username "customer:<id>"
    (no staff username can contain a colon) with no staff user id."""

    customer_id: int
    pk: None = None
    # Never a member of staff: no permission check passes for a customer (e.g. four-eyes decisions).
    is_authenticated: bool = False

    @property
    def username(self) -> str:
        return f"customer:{self.customer_id}"

    def has_perm(self, perm: str) -> bool:
        return False


# A member of staff (request.user in the back office and the staff API), the anonymous user of a request
# nobody signed in to, a customer in the portal, or None when no person acts (a kiosk customer's own
# operation, a scheduled task).
Actor: TypeAlias = User | AnonymousUser | CustomerActor | None


def actor_user(actor: Actor) -> User | None:
    """The stored user behind an actor, for a foreign key to the user table; None for anyone else."""
    return actor if isinstance(actor, User) and actor.pk is not None else None
