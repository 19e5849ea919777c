"""Small security adapters for third-party apps."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest

USERNAME_MAX_LENGTH = 150


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The username django-axes records: capped, because the login form does not stop a 10 kB username
    before axes writes it to a 255-character column (a 500 on PostgreSQL otherwise)."""
    source = credentials if credentials else request.POST
    return str(source.get("username", "") or "")[:USERNAME_MAX_LENGTH]


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the rate limits see it: `request.META[RATELIMIT_IP_META_KEY]` (the header a
    trusted proxy sets, e.g. HTTP_X_REAL_IP), or REMOTE_ADDR when that setting is empty.

    django-ratelimit reads the setting itself; django-axes (AXES_CLIENT_IP_CALLABLE) and the audit trail call
    this, so one setting decides the address every throttle counts. A request without a valid address in the
    header did not come through the proxy: its peer address (REMOTE_ADDR) is the client.
    """
    meta_key = getattr(settings, "RATELIMIT_IP_META_KEY", None) or "REMOTE_ADDR"
    for key in (meta_key, "REMOTE_ADDR"):
        try:
            return str(ipaddress.ip_address(str(request.META.get(key, "") or "").strip()))
        except ValueError:
            continue
    return None
