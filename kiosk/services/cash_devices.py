"""The cash-in module as a device of its own: provisioning (its key shown once), revocation, and its signed
count reports — the only way counted notes reach a deposit's escrow.

A report is a JSON body `{"counter", "timestamp", "session"?, "notes", "idempotency_key"}` sent with
`X-Cash-In-Device: <device id>` and `X-Cash-In-Signature: <hex HMAC-SHA256 of the exact body bytes under the
device key>`. An altered body fails the signature; a replayed one fails the counter (it must exceed the last
accepted one, checked under the device row lock with the escrow); an old one fails the timestamp window.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise

from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from .. import errors
from ..errors import KioskError
from ..locks import kiosk_lock
from ..models import CashInDevice, Kiosk
from . import cash_in

DEVICE_HEADER = "HTTP_X_CASH_IN_DEVICE"
SIGNATURE_HEADER = "HTTP_X_CASH_IN_SIGNATURE"
REPORT_MAX_BYTES = 4096


def report_sign(*, key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


@transaction.atomic
def cash_in_device_provision(*, kiosk: Kiosk, actor: User | None) -> tuple[CashInDevice, str]:
    """A new cash-in module credential for `kiosk`, its key returned once. Any earlier module is revoked."""
    kiosk = kiosk_lock(kiosk)
    replaced = CashInDevice.objects.filter(kiosk=kiosk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    key = secrets.token_urlsafe(32)
    device = CashInDevice.objects.create(
        kiosk=kiosk,
        device_id=f"cim_{secrets.token_hex(12)}",
        signing_key=key,
        created_by_id=actor.pk if actor else None,
    )
    audit_event_record(
        kind=AuditEvent.Kind.CASH_IN_DEVICE_PROVISIONED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        kiosk_id=kiosk.pk,
        data={"device_id": device.device_id, "replaced": replaced},
    )
    return device, key


@transaction.atomic
def cash_in_device_revoke(*, kiosk: Kiosk, actor: User | None) -> int:
    """Revoke the kiosk's cash-in module (lost, replaced, tampered with). Returns how many were active."""
    kiosk = kiosk_lock(kiosk)
    revoked = CashInDevice.objects.filter(kiosk=kiosk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    audit_event_record(
        kind=AuditEvent.Kind.CASH_IN_DEVICE_REVOKED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        kiosk_id=kiosk.pk,
        data={"revoked": revoked},
    )
    return revoked


@dataclass(frozen=True)
class Report:
    counter: int
    timestamp: int
    session: str | None
    notes: object
    idempotency_key: str


def _invalid(message: str | Promise | None = None) -> ApplicationError:
    """A malformed count report: the code's wording (not valid JSON), or what exactly is wrong with it."""
    return ApplicationError(KioskError.CASH_IN_REPORT_INVALID, message)


def _positive(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise _invalid(errors.CASH_IN_REPORT_NO_COUNTER)
    return value


def _report_parse(body: bytes) -> Report:
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        raise _invalid() from None
    if not isinstance(data, dict):
        raise _invalid(errors.CASH_IN_REPORT_NOT_OBJECT)
    counter, stamp = _positive(data.get("counter")), _positive(data.get("timestamp"))
    session, key = data.get("session"), data.get("idempotency_key")
    if session is not None and not isinstance(session, str):
        raise _invalid(errors.CASH_IN_REPORT_SESSION)
    if not isinstance(key, str):
        raise _invalid(errors.CASH_IN_REPORT_NO_KEY)
    return Report(counter, stamp, session, data.get("notes"), key)


def _refuse(device: CashInDevice, *, reason: str, error: ApplicationError) -> ApplicationError:
    """Audit a refused report of a known device (its own transaction: the refusal writes nothing else)."""
    with transaction.atomic():
        audit_event_record(
            kind=AuditEvent.Kind.CASH_IN_REPORT_REFUSED,
            outcome=AuditEvent.Outcome.FAILURE,
            kiosk_id=device.kiosk_id,
            data={"device_id": device.device_id, "reason": reason},
        )
    return error


def cash_in_report_receive(*, device_id: str, signature: str, body: bytes) -> cash_in.Escrow:
    """Verify a cash-in module's signed count report and put its notes into the open deposit's escrow."""
    device = (
        CashInDevice.objects.select_related("kiosk")
        .filter(device_id=(device_id or "")[:40], revoked_at__isnull=True)
        .first()
    )
    if len(body) > REPORT_MAX_BYTES:
        raise _invalid(errors.CASH_IN_REPORT_TOO_LARGE)
    if device is None:
        raise ApplicationError(KioskError.CASH_IN_DEVICE_UNKNOWN, status_code=403)
    if not hmac.compare_digest(
        report_sign(key=device.signing_key, body=body), (signature or "").strip().lower()
    ):
        raise _refuse(
            device,
            reason="signature",
            error=ApplicationError(KioskError.CASH_IN_SIGNATURE_INVALID, status_code=403),
        )
    report = _report_parse(body)
    if abs(time.time() - report.timestamp) > settings.KIOSK_CASH_IN_REPORT_MAX_AGE_S:
        raise _refuse(
            device,
            reason="stale",
            error=ApplicationError(KioskError.CASH_IN_REPORT_STALE),
        )
    try:
        return cash_in.deposit_escrow(
            kiosk=device.kiosk,
            device=device,
            counter=report.counter,
            public_id=report.session,
            notes=report.notes,
            idempotency_key=report.idempotency_key,
        )
    except ApplicationError as error:
        if error.code == KioskError.CASH_IN_REPORT_REPLAYED:
            raise _refuse(device, reason="replayed", error=error) from None
        raise


def simulated_device_ensure(*, kiosk: Kiosk) -> CashInDevice:
    """Development only: the kiosk's cash-in module, provisioned (audited) when the demo first needs it."""
    device = CashInDevice.objects.filter(kiosk=kiosk, revoked_at__isnull=True).first()
    if device is None:
        device, _key = cash_in_device_provision(kiosk=kiosk, actor=None)
    return device


def simulated_report_send(
    *, kiosk: Kiosk, public_id: str, notes: object, idempotency_key: str
) -> cash_in.Escrow:
    """Development only (DEBUG and KIOSK_SIMULATED_ACCEPTOR): the demo page's note buttons play the cash-in
    module. The report is signed with the kiosk's module key and goes through the same verification."""
    device = simulated_device_ensure(kiosk=kiosk)
    body = json.dumps(
        {
            "counter": device.last_counter + 1,
            "timestamp": int(time.time()),
            "session": str(public_id),
            "notes": notes,
            "idempotency_key": idempotency_key,
        }
    ).encode()
    return cash_in_report_receive(
        device_id=device.device_id, signature=report_sign(key=device.signing_key, body=body), body=body
    )
