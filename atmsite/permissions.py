from __future__ import annotations

from functools import cache

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


@cache
def staff_permission(perm: str) -> type[BasePermission]:
    """A DRF permission class: an active staff user holding `perm` (e.g. "accounts.change_card")."""

    class _HasStaffPermission(BasePermission):
        message = f"You need the {perm} permission."

        def has_permission(self, request: Request, view: APIView) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.is_staff and user.has_perm(perm))

    _HasStaffPermission.__name__ = f"HasPerm_{perm.replace('.', '_')}"
    return _HasStaffPermission


def staff_user(request: HttpRequest | Request) -> User:
    """The signed-in member of staff behind a request that passed a staff check (`staff_permission`, the
    branch portal's decorator, the admin): the `actor` services record."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Staff only.")
    return user
