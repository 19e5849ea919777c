"""Kiosk device credentials: one-time provisioning codes and the long-lived token they turn into."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from audit.services import audit_event_record

from ..errors import KioskError
from ..locks import kiosk_lock, kiosk_provisioning_code_lock
from ..models import Kiosk, KioskCredential, KioskProvisioningCode


def token_digest(raw: str) -> str:
    """SHA-256 is enough here: the secrets are 256 random bits, there is no dictionary to attack."""
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def kiosk_provisioning_code_create(*, kiosk: Kiosk, actor: User | None) -> tuple[KioskProvisioningCode, str]:
    """A fresh one-time code for `kiosk`; the clear code is returned once and never stored."""
    kiosk = kiosk_lock(kiosk)
    # One live code per kiosk: issuing a new one retires any unused earlier code.
    KioskProvisioningCode.objects.filter(kiosk=kiosk, used_at__isnull=True).update(used_at=timezone.now())
    raw = secrets.token_urlsafe(32)
    code = KioskProvisioningCode.objects.create(
        kiosk=kiosk,
        code_sha256=token_digest(raw),
        created_by_id=actor.pk if actor else None,
        expires_at=timezone.now() + timedelta(seconds=settings.KIOSK_PROVISIONING_CODE_TTL_S),
    )
    audit_event_record(
        kind=AuditEvent.Kind.ADMIN_ACTION,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        kiosk_id=kiosk.pk,
        data={"action": "kiosk_provisioning_code_create", "code_id": code.pk},
    )
    return code, raw


def _credential_issue(*, kiosk: Kiosk) -> tuple[KioskCredential, str]:
    # A kiosk has one device: a new credential revokes the previous ones (rotation).
    KioskCredential.objects.filter(kiosk=kiosk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    raw = secrets.token_urlsafe(32)
    return KioskCredential.objects.create(kiosk=kiosk, token_sha256=token_digest(raw)), raw


@transaction.atomic
def kiosk_provisioning_code_redeem(*, code: str) -> tuple[KioskCredential, str]:
    """Exchange a one-time code for the kiosk's device credential (returned in clear once)."""
    digest = token_digest((code or "").strip())
    refused = ApplicationError(KioskError.PROVISIONING_INVALID, status_code=400)
    found = KioskProvisioningCode.objects.filter(code_sha256=digest).values_list("pk", "kiosk_id").first()
    if found is None:
        raise refused
    # Lock order kiosk → code (as kiosk_provisioning_code_create); re-read under the lock so two browsers
    # opening the same link at once get one credential between them.
    kiosk = kiosk_lock(found[1])
    row = kiosk_provisioning_code_lock(found[0])
    if row.used_at is not None or row.expires_at <= timezone.now():
        raise refused
    row.used_at = timezone.now()
    row.save(update_fields=["used_at"])
    credential, raw = _credential_issue(kiosk=kiosk)
    audit_event_record(
        kind=AuditEvent.Kind.KIOSK_PROVISIONED,
        outcome=AuditEvent.Outcome.SUCCESS,
        kiosk_id=kiosk.pk,
        data={"credential_id": credential.pk, "code_id": row.pk, "via": "provisioning_link"},
    )
    return credential, raw


@transaction.atomic
def kiosk_credential_rotate(*, kiosk: Kiosk, actor: User | None) -> tuple[KioskCredential, str]:
    """A new token for API clients (shown once); every earlier credential of the kiosk stops working."""
    kiosk = kiosk_lock(kiosk)
    credential, raw = _credential_issue(kiosk=kiosk)
    audit_event_record(
        kind=AuditEvent.Kind.KIOSK_PROVISIONED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        kiosk_id=kiosk.pk,
        data={"credential_id": credential.pk, "via": "rotation"},
    )
    return credential, raw


@transaction.atomic
def kiosk_credential_revoke(*, kiosk: Kiosk, actor: User | None) -> int:
    """Revoke every active credential of the kiosk (a stolen or retired device). Returns how many."""
    kiosk = kiosk_lock(kiosk)
    revoked = KioskCredential.objects.filter(kiosk=kiosk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    audit_event_record(
        kind=AuditEvent.Kind.KIOSK_CREDENTIAL_REVOKED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        kiosk_id=kiosk.pk,
        data={"revoked": revoked},
    )
    return revoked


def kiosk_credential_authenticate(*, token: str) -> KioskCredential | None:
    """The active credential of an ACTIVE kiosk for `token`, or None. Reads only (plus last_used_at)."""
    if not token or len(token) > 200:
        return None
    credential = (
        KioskCredential.objects.select_related("kiosk")
        .filter(token_sha256=token_digest(token), revoked_at__isnull=True)
        .first()
    )
    if credential is None or credential.kiosk.status != Kiosk.Status.ACTIVE:
        return None
    now = timezone.now()
    # Cheap heartbeat for the admin ("last seen"), written at most once a minute per credential.
    if credential.last_used_at is None or now - credential.last_used_at > timedelta(minutes=1):
        KioskCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    return credential
