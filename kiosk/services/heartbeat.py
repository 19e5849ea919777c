"""The kiosk page's heartbeat: when it last reached the server, and the last error it reported."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ..models import Kiosk

LAST_ERROR_MAX = 200


def kiosk_heartbeat_record(*, kiosk: Kiosk, error: str = "", now: dt.datetime | None = None) -> Kiosk:
    """Record a heartbeat. An error string replaces the last one; a heartbeat without one clears it (the
    kiosk recovered). Not audited: a row every 30 s per kiosk would bury the security trail, and liveness
    of a device moves neither money nor biometrics. One UPDATE, so no lock is needed."""
    now = now or timezone.now()
    error = error.strip()[:LAST_ERROR_MAX]
    kiosk.last_contact_at = now
    kiosk.last_error = error
    if error:
        kiosk.last_error_at = now
    fields = ["last_contact_at", "last_error"] + (["last_error_at"] if error else [])
    Kiosk.objects.filter(pk=kiosk.pk).update(**{name: getattr(kiosk, name) for name in fields})
    return kiosk
