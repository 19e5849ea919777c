"""Admin mixins shared by the apps."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Rows that services write (the ledger, the audit trail, sessions, cash counts): the admin shows them
    and never adds, changes or deletes one. Works on ModelAdmin and on inlines."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NoDeleteAdminMixin:
    """Rows that are closed, blocked or replaced through services, never deleted: the ledger, the audit
    trail and the change requests refer to them."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
