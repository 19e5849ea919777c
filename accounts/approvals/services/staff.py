"""Staff logins and roles: a login becomes usable, gains a role, a permission or the superuser flag only once
a second member of staff approves (finding: an administrator created a second login, gave it the Supervisor
role and approved his own limit increase with it).

A decision also counts the person: whoever the proposer created or re-roled within STAFF_GRANT_COOLING_DAYS
cannot decide the proposer's requests (`staff_recently_granted_by`), whether the grant went through a request
or, before these rules, straight through the admin (its log entry).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.utils import timezone

from accounts.models import ChangeRequest
from atmsite.errors import ApplicationError
from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record

from ...errors import AccountsError
from .common import Kind, change_propose, reason_check, stale

FLAGS = ("is_active", "is_staff", "is_superuser")


def staff_grant_state(user: User) -> dict[str, Any]:
    """What a login may do now: its flags, roles and direct permissions (sorted, comparable)."""
    return {
        **{flag: getattr(user, flag) for flag in FLAGS},
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(
            f"{app}.{codename}"
            for app, codename in user.user_permissions.values_list("content_type__app_label", "codename")
        ),
    }


@transaction.atomic
def staff_grant_propose(*, user: User, wanted: dict[str, Any], actor: Actor, reason: str) -> ChangeRequest:
    """Propose the login's new flags, roles and direct permissions (`wanted`, as staff_grant_state gives)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    current = staff_grant_state(user)
    unknown = set(wanted["groups"]) - set(Group.objects.values_list("name", flat=True))
    if unknown:
        raise ApplicationError(AccountsError.ROLE_UNKNOWN, params={"roles": ", ".join(sorted(unknown))})
    return change_propose(
        kind=Kind.STAFF_GRANT,
        customer=None,
        target=f"user:{user.pk}",
        summary=f"Staff login {user.get_username()}: roles {', '.join(wanted['groups']) or '—'}"
        + (" (superuser)" if wanted["is_superuser"] else ""),
        payload={"user_id": user.pk, "username": user.get_username(), **wanted},
        baseline=current,
        actor=actor,
        reason=reason_check(reason),
    )


def staff_grant_approved(change: ChangeRequest, actor: Actor) -> None:
    user = User.objects.select_for_update().get(pk=change.payload["user_id"])
    if staff_grant_state(user) != change.baseline:
        raise stale("The login's roles or flags")
    for flag in FLAGS:
        setattr(user, flag, bool(change.payload[flag]))
    user.save(update_fields=list(FLAGS))
    user.groups.set(Group.objects.filter(name__in=change.payload["groups"]))
    wanted = [name.split(".", 1) for name in change.payload["permissions"]]
    user.user_permissions.set(
        [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in wanted]
    )
    audit_event_record(
        kind=AuditEvent.Kind.STAFF_GRANTED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        data={
            "user_id": user.pk,
            "username": user.get_username(),
            "proposed_by_id": change.proposed_by_id,
            "change_request_id": change.pk,
            "old": change.baseline,
            "new": {key: change.payload[key] for key in (*FLAGS, "groups", "permissions")},
        },
    )


def staff_recently_granted_by(*, user_id: int, by_id: int, now: dt.datetime | None = None) -> bool:
    """True if `by_id` created or re-roled login `user_id` within STAFF_GRANT_COOLING_DAYS: as the proposer
    or the approver of a staff grant, or directly in the admin (its log entry names them)."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    since = (now or timezone.now()) - dt.timedelta(days=settings.STAFF_GRANT_COOLING_DAYS)
    grants = AuditEvent.objects.filter(
        kind=AuditEvent.Kind.STAFF_GRANTED, created_at__gte=since, data__user_id=user_id
    )
    if grants.filter(actor_id=by_id).exists() or grants.filter(data__proposed_by_id=by_id).exists():
        return True
    return LogEntry.objects.filter(
        user_id=by_id,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user_id),
        action_time__gte=since,
    ).exists()


def staff_grant_values(change: ChangeRequest) -> dict[str, Any]:
    keys = (*FLAGS, "groups", "permissions")
    return {"old": {k: change.baseline[k] for k in keys}, "new": {k: change.payload[k] for k in keys}}
