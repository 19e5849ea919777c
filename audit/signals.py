"""Staff authentication and Django admin actions, recorded as audit events."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_save
from django.http import HttpRequest

from atmsite.security import client_ip

from .actors import Actor
from .models import AuditEvent
from .services import audit_event_record

# An attempted username is attacker-controlled text: keep it short.
USERNAME_MAX = 64
_ADMIN_ACTIONS = {ADDITION: "addition", CHANGE: "change", DELETION: "deletion"}


def _client_ip(request: HttpRequest | None) -> str:
    # The address the throttles count (RATELIMIT_IP_META_KEY behind a proxy), not the proxy's.
    if request is None or not hasattr(request, "META"):
        return ""
    return client_ip(request) or ""


def staff_logged_in(sender: object, request: HttpRequest | None, user: Actor, **kwargs: Any) -> None:
    # Login views are not atomic: each record opens its own transaction (a savepoint when nested).
    with transaction.atomic():
        audit_event_record(
            kind=AuditEvent.Kind.STAFF_LOGIN,
            outcome=AuditEvent.Outcome.SUCCESS,
            actor=user,
            data={"ip": _client_ip(request)},
        )


def staff_login_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # There is no user: keep what was typed as the username (Django already masks the password).
    username = str(credentials.get("username", "") or "")[:USERNAME_MAX]
    with transaction.atomic():
        audit_event_record(
            kind=AuditEvent.Kind.STAFF_LOGIN_FAILED,
            outcome=AuditEvent.Outcome.FAILURE,
            data={"username": username, "ip": _client_ip(request)},
        )


def staff_logged_out(sender: object, request: HttpRequest | None, user: Actor = None, **kwargs: Any) -> None:
    if user is None:  # logging out an anonymous session changes nothing
        return
    with transaction.atomic():
        audit_event_record(kind=AuditEvent.Kind.STAFF_LOGOUT, actor=user, data={"ip": _client_ip(request)})


def admin_log_entry_saved(sender: object, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """Mirror every admin LogEntry into the chain, in the admin view's transaction.

    LogEntry rows are ordinary, deletable rows; the chained copy is not. The object's repr may name a
    customer, so it goes to `personal` (erasable), and a customer object's id to customer_id.
    """
    if not created:
        return
    content_type = instance.content_type
    label = f"{content_type.app_label}.{content_type.model}" if content_type else ""
    object_id = str(instance.object_id or "")
    customer_id = int(object_id) if label == "accounts.customer" and object_id.isdigit() else None
    with transaction.atomic():
        audit_event_record(
            kind=AuditEvent.Kind.ADMIN_ACTION,
            outcome=AuditEvent.Outcome.SUCCESS,
            actor=instance.user,
            customer_id=customer_id,
            data={
                "action": _ADMIN_ACTIONS.get(instance.action_flag, str(instance.action_flag)),
                "model": label,
                "object_id": object_id[:64],
                "change_message": instance.get_change_message()[:500],
            },
            personal={"object_repr": instance.object_repr} if instance.object_repr else None,
        )


def connect() -> None:
    user_logged_in.connect(staff_logged_in, dispatch_uid="audit.staff_logged_in")
    user_login_failed.connect(staff_login_failed, dispatch_uid="audit.staff_login_failed")
    user_logged_out.connect(staff_logged_out, dispatch_uid="audit.staff_logged_out")
    post_save.connect(admin_log_entry_saved, sender=LogEntry, dispatch_uid="audit.admin_log_entry")
