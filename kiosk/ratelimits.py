"""Request rate limits for the kiosk (django-ratelimit on the Django cache: Redis when REDIS_URL is set).

Per kiosk device for authenticated calls (every customer at one kiosk shares its budget; a stolen credential
cannot flood the face engine), per client IP for the unauthenticated provisioning link. Over the limit the
view raises django_ratelimit's Ratelimited, which atmsite.errors maps to a 429 {"code", "detail"}.
Rates are settings (RATELIMIT_KIOSK_*, defaults in atmsite/settings/security.py), read on every request so
they can be tuned without a deploy of code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit


def kiosk_key(group: str, request: Any) -> str:
    """The authenticated kiosk (the view's permission check has already run when this is called).

    The kiosk id plus its credential's digest: a kiosk has exactly one live credential (issuing one revokes
    the others), so this counts per kiosk; re-provisioning a device starts it with a fresh budget, and ids
    reused by another database (a restored backup, a test run) never inherit a stale count.
    """
    credential = getattr(request, "auth", None)
    kiosk_id = getattr(credential, "kiosk_id", None)
    if credential is None or kiosk_id is None:
        # Not reachable through the API (IsKiosk refuses first); fall back to the client address.
        return f"ip:{request.META.get('REMOTE_ADDR', '')}"
    return f"kiosk:{kiosk_id}:{credential.token_sha256[:16]}"


def _rate(setting: str) -> Callable[[str, Any], str | None]:
    def rate(group: str, request: Any) -> str | None:
        return getattr(settings, setting) or None  # empty setting: no limit

    return rate


def kiosk_rate_limit(setting: str, *, method: str = "post") -> Any:
    """Class decorator for a KioskApi view: limit `method` per kiosk at the rate in settings.<setting>."""
    group = f"kiosk.{setting.removeprefix('RATELIMIT_KIOSK_').lower()}"
    return method_decorator(
        ratelimit(group=group, key=kiosk_key, rate=_rate(setting), method=method.upper(), block=True),
        name=method,
    )


def cash_in_module_rate_limit(setting: str) -> Any:
    """Class decorator for the cash-in module's API: limit POSTs per module id (its header), before the
    signature is checked, so a flood of forged reports for one module cannot fill the audit trail."""
    group = f"kiosk.{setting.removeprefix('RATELIMIT_KIOSK_').lower()}"
    return method_decorator(
        ratelimit(group=group, key="header:x-cash-in-device", rate=_rate(setting), method="POST", block=True),
        name="post",
    )


def ip_rate_limit(setting: str) -> Any:
    """Function decorator for a plain Django view: count POSTs per client IP and set `request.limited`.

    Not blocking: a plain view answers its own 429 page (Ratelimited would become Django's 403 page).
    """
    group = f"kiosk.{setting.removeprefix('RATELIMIT_KIOSK_').lower()}"
    return ratelimit(group=group, key="ip", rate=_rate(setting), method="POST", block=False)
