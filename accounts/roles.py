"""Staff roles as Django groups. Created by a data migration and re-synced after every migrate, because
permissions of apps migrated later (biometrics, audit, kiosk) only exist once their tables do."""

from __future__ import annotations

from typing import Any

TELLER = "Teller"
AUDITOR = "Auditor"
ADMINISTRATOR = "Administrator"
# A branch supervisor: a Teller who is also the second pair of eyes on a colleague's proposals.
SUPERVISOR = "Supervisor"

# app_label -> actions a role gets on every model of that app; "model:action" entries for single models.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    TELLER: {
        "accounts.customer": ("view", "add", "change"),
        # Opening an account moves no money; a card on it still needs a second person's approval.
        "accounts.bankaccount": ("view", "add"),
        "accounts.card": ("view", "add", "change"),
        "accounts.transaction": ("view",),
        "biometrics.*": ("view", "add", "change"),
        "kiosk.kiosk": ("view",),
        # Tellers propose (through the change permissions above) and see the requests; they never approve.
        "accounts.changerequest": ("view",),
        "portal.fraudcase": ("view",),
    },
    SUPERVISOR: {
        "accounts.customer": ("view", "add", "change"),
        "accounts.bankaccount": ("view", "add"),
        # Lifting a face lock lets a card's face check run again: a supervisor's call, never a teller's.
        "accounts.card": ("view", "add", "change", "reset_face_lock"),
        "accounts.transaction": ("view",),
        "accounts.changerequest": ("view", "approve"),
        "biometrics.*": ("view", "add", "change"),
        "biometrics.enrolment": ("view", "add", "change", "review"),
        "kiosk.kiosk": ("view",),
        # The fraud queue: customers' "this was not me" reports.
        "portal.fraudcase": ("view", "change"),
    },
    AUDITOR: {
        "*": ("view",),
        "audit.auditevent": ("view", "view_snapshot", "mark_snapshot", "export"),
        "portal.fraudcase": ("view", "change"),
    },
    ADMINISTRATOR: {
        "*": ("view", "add", "change", "delete"),
        "biometrics.enrolment": ("view", "add", "change", "delete", "review"),
        "accounts.changerequest": ("view", "approve"),
        "accounts.card": ("reset_face_lock",),
        "audit.auditevent": ("view", "view_snapshot", "mark_snapshot", "export"),
    },
}
OUR_APPS = ("accounts", "biometrics", "audit", "kiosk", "portal", "auth")


def roles_sync(apps: Any = None) -> None:
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    all_permissions = list(permission_model.objects.select_related("content_type"))
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = []
        for permission in all_permissions:
            app_label, model = permission.content_type.app_label, permission.content_type.model
            if app_label not in OUR_APPS:
                continue
            codename = permission.codename
            action = codename.removesuffix(f"_{model}") if codename.endswith(f"_{model}") else codename
            for target, actions in grants.items():
                if target in ("*", f"{app_label}.*", f"{app_label}.{model}") and action in actions:
                    wanted.append(permission)
                    break
        group.permissions.set(wanted)


def roles_sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    # Runs after auth's own post_migrate handler has created this app's permissions.
    if sender.label in OUR_APPS:
        roles_sync()
