"""Small security adapters for third-party apps."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

USERNAME_MAX_LENGTH = 150


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The username django-axes records: capped, because the login form does not stop a 10 kB username
    before axes writes it to a 255-character column (a 500 on PostgreSQL otherwise)."""
    source = credentials if credentials else request.POST
    return str(source.get("username", "") or "")[:USERNAME_MAX_LENGTH]
