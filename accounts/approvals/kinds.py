"""The one dispatch table of change kinds: what approving, rejecting and showing a request of each kind does.

Four-eyes serves several apps but knows kinds, not apps: each app registers the kinds it owns from its
AppConfig.ready (accounts its own, biometrics the face kinds, kiosk the card-less ones), so the dependency
points inward (accounts never imports biometrics or kiosk to decide a request). A kind with no handler is a
configuration error, raised when a request of it is proposed, shown or decided.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from accounts.models import ChangeRequest
from audit.actors import Actor


@dataclass(frozen=True)
class Row:
    """One line of what a checker reads: the field, its value now and after approval (display text)."""

    label: str
    before: str
    after: str


Handler = Callable[[ChangeRequest, Actor], None]


@dataclass(frozen=True)
class ChangeKind:
    # Applies the approved change through the owning app's service, inside the approval's transaction, after
    # re-checking the request's baseline (raise to roll the whole approval back).
    apply: Handler
    # Old and new values as the audit trail records them: masked, never a PAN or a full phone.
    values: Callable[[ChangeRequest], dict[str, Any]]
    # What a checker reads, in the reader's language.
    rows: Callable[[ChangeRequest], list[Row]]
    # What a rejection must undo beyond the request itself (a re-enrolment's new templates).
    on_reject: Handler | None = None
    # Gives someone a way into the account: pointless, and dangerous, for a customer deactivated since.
    needs_active_customer: bool = False
    # False when only a second person may settle it (an enrolment: the proposer is whoever held the camera).
    cancellable: bool = True


_KINDS: dict[str, ChangeKind] = {}


def change_kind_register(
    kind: str,
    *,
    apply: Handler,
    values: Callable[[ChangeRequest], dict[str, Any]],
    rows: Callable[[ChangeRequest], list[Row]],
    on_reject: Handler | None = None,
    needs_active_customer: bool = False,
    cancellable: bool = True,
) -> None:
    """Register the handlers of one kind (from the owning app's AppConfig.ready). Registering the same
    handlers again is harmless (ready can run twice in tests); different ones for a kind are refused."""
    if kind not in ChangeRequest.Kind.values:
        raise ImproperlyConfigured(f"{str(kind)!r} is not a ChangeRequest.Kind.")
    handlers = ChangeKind(
        apply=apply,
        values=values,
        rows=rows,
        on_reject=on_reject,
        needs_active_customer=needs_active_customer,
        cancellable=cancellable,
    )
    registered = _KINDS.get(kind)
    if registered is not None and registered != handlers:
        raise ImproperlyConfigured(f"Change kind {str(kind)!r} is registered twice, with different handlers.")
    _KINDS[kind] = handlers


def change_kind(kind: str) -> ChangeKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ImproperlyConfigured(
            f"No handler registered for change kind {str(kind)!r}: its app registers it in AppConfig.ready."
        ) from None


def change_kinds_unregistered() -> list[str]:
    """Kinds of ChangeRequest no app registered (empty once every app is loaded)."""
    return [kind for kind in ChangeRequest.Kind.values if kind not in _KINDS]
