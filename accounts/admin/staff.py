"""Staff logins: creating one or giving it a role is a four-eyes change (accounts.approvals.services.staff).

A login added here starts inactive, without roles or permissions. On its page the administrator picks the
roles, flags and permissions wanted and gives a reason: that becomes a proposal, and the login keeps what it
had until a second member of staff approves. Passwords and names are changed here directly.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from atmsite.errors import ApplicationError

from ..approvals import services as approvals
from .common import PROPOSED


class StaffChangeForm(UserChangeForm):
    grant_reason = forms.CharField(
        label=_("Reason for a role or access change"),
        max_length=300,
        required=False,
        help_text=_("Required when roles, permissions or the active/staff/superuser flags change."),
    )


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    form = StaffChangeForm
    fieldsets = (*(UserAdmin.fieldsets or ()), (_("Four eyes"), {"fields": ("grant_reason",)}))

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # A read-only viewer grants nothing, so the reason for a grant is no field of theirs.
            fieldsets = [
                (name, options) for name, options in fieldsets if "grant_reason" not in options["fields"]
            ]
        return fieldsets

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change:
            # A new login can do nothing until a second member of staff approves what it may do.
            obj.is_active = obj.is_staff = obj.is_superuser = False
            super().save_model(request, obj, form, change)
            return
        before = User.objects.get(pk=obj.pk)
        request._staff_before = approvals.staff_grant_state(before)  # type: ignore[attr-defined]
        for flag in ("is_active", "is_staff", "is_superuser"):
            setattr(obj, f"_wanted_{flag}", getattr(obj, flag))
            setattr(obj, flag, getattr(before, flag))  # flags change only through the approval
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_staff_before", None)
        if not change or before is None:
            return
        user = form.instance
        wanted = approvals.staff_grant_state(user)
        for flag in ("is_active", "is_staff", "is_superuser"):
            wanted[flag] = getattr(user, f"_wanted_{flag}", before[flag])
        # Back to what the login had: roles and permissions change only through the approval.
        self._restore(user, before)
        if wanted == before:
            return
        try:
            proposal = approvals.staff_grant_propose(
                user=user, wanted=wanted, actor=request.user, reason=form.cleaned_data.get("grant_reason", "")
            )
        except ApplicationError as error:
            self.message_user(request, f"Roles not changed: {error.message}", messages.ERROR)
            return
        self.message_user(request, PROPOSED.format(what="Role change", pk=proposal.pk), messages.WARNING)

    @staticmethod
    def _restore(user: User, state: dict[str, Any]) -> None:
        from django.contrib.auth.models import Group, Permission

        user.groups.set(Group.objects.filter(name__in=state["groups"]))
        pairs = [name.split(".", 1) for name in state["permissions"]]
        user.user_permissions.set(
            [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in pairs]
        )
