"""System checks of the kiosk app: a setting that would let a production portal create money stops it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def simulated_acceptor_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if getattr(settings, "KIOSK_SIMULATED_ACCEPTOR", False) and not settings.DEBUG:
        return [
            Error(
                "KIOSK_SIMULATED_ACCEPTOR is on with DEBUG off: the kiosk page would report counted notes.",
                hint="Unset KIOSK_SIMULATED_ACCEPTOR in production; a real cash-in module signs its reports.",
                id="kiosk.E001",
            )
        ]
    return []
