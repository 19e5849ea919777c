"""Biometrics reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import Customer
from atmsite.crypto import encrypted_file_read
from audit.thumbnails import thumbnail_jpeg
from biometrics.models import Enrolment, EnrolmentPhoto, FaceTemplate
from biometrics.services.verification import customer_has_active_templates

__all__ = [
    "BiometricStatus",
    "customer_biometric_status",
    "customer_enrolment_newest",
    "customer_enrolments",
    "customer_has_active_templates",
    "customers_search",
    "enrolment_photo_thumbnail",
    "enrolment_progress",
    "enrolments_recent",
]


def customers_search(*, query: str, limit: int = 20) -> QuerySet[Customer]:
    """The branch search box: name, phone in any usual form, full card number or its last four digits."""
    from accounts.selectors import customers_find

    return customers_find(term=query).filter(is_active=True)[:limit]


def _replaces_a_face(enrolment: Enrolment) -> bool:
    """A re-enrolment (the customer has an active face besides this enrolment's), not a first face."""
    return (
        FaceTemplate.objects.filter(
            customer_id=enrolment.customer_id, revoked_at__isnull=True, gallery_added_version__isnull=False
        )
        .exclude(enrolment=enrolment)
        .exists()
    )


def enrolment_progress(*, enrolment: Enrolment) -> dict[str, object]:
    """What the branch page polls: status, progress and the outcome in words."""
    kept_photo_ids = list(
        enrolment.photos.filter(status=EnrolmentPhoto.Status.OK)
        .order_by("index")
        .values_list("pk", flat=True)
    )
    taken = len(kept_photo_ids)
    messages: dict[str, str] = {
        Enrolment.Status.CAPTURING: _("%(taken)s of %(required)s photos taken.")
        % {"taken": taken, "required": enrolment.photos_required},
        Enrolment.Status.QUEUED: _("Waiting for the encoder…"),
        Enrolment.Status.ENCODING: _("%(encoded)s of %(required)s encoded.")
        % {"encoded": enrolment.encoded_count, "required": enrolment.photos_required},
        Enrolment.Status.ACTIVE: _("Enrolment complete: the customer can use face verification at the ATM."),
        Enrolment.Status.NEEDS_REVIEW: (
            _(
                "This face is very close to another customer's. "
                "A supervisor must review the enrolment before it can be used."
            )
            if enrolment.duplicate_of_customer_id
            else _(
                "The customer already has a face on file: a second member of staff must approve the new one "
                "(Pending approvals) before it replaces the old one."
            )
            if _replaces_a_face(enrolment)
            else _(
                "A second member of staff must approve this first face (Pending approvals) before the "
                "customer can use face verification at the ATM."
            )
        ),
        Enrolment.Status.FAILED: _(enrolment.failure_reason or "Enrolment failed; please retake the photos."),
        Enrolment.Status.REJECTED: _("The reviewer rejected this enrolment."),
        Enrolment.Status.SUPERSEDED: _("A newer enrolment replaced this one."),
        Enrolment.Status.REVOKED: _("The customer's biometrics were revoked."),
    }
    return {
        "id": enrolment.pk,
        "customer_id": enrolment.customer_id,
        "status": enrolment.status,
        "status_display": enrolment.get_status_display(),
        "photos_taken": taken,
        "photos_required": enrolment.photos_required,
        "encoded_count": enrolment.encoded_count,
        "finished": enrolment.status not in Enrolment.OPEN_STATUSES,
        "message": messages.get(enrolment.status, ""),
        "kept_photo_ids": kept_photo_ids,
    }


@dataclass(frozen=True)
class BiometricStatus:
    """What staff screens say about a customer's face verification and consent."""

    consent: str  # "given", "withdrawn" or "none"
    consent_at: dt.datetime | None
    erased_at: dt.datetime | None
    active_templates: int
    pending_change_id: int | None
    pending_change: str

    @property
    def text(self) -> str:
        if self.consent == "given":
            state = _("Consent given; %(count)s active face templates.") % {"count": self.active_templates}
        elif self.consent == "withdrawn":
            state = _("Consent withdrawn: biometric data erased.")
        else:
            state = _("No consent recorded.")
        if self.pending_change_id:
            state += " " + _("%(change)s awaiting approval (request #%(pk)s).") % {
                "change": self.pending_change,
                "pk": self.pending_change_id,
            }
        return state


def customer_biometric_status(*, customer: Customer) -> BiometricStatus:
    from accounts.models import ChangeRequest
    from audit.models import AuditEvent
    from biometrics.models import FaceTemplate

    erased_at = (
        AuditEvent.objects.filter(customer_id=customer.pk, kind=AuditEvent.Kind.BIOMETRICS_ERASED)
        .order_by("-seq")
        .values_list("created_at", flat=True)
        .first()
    )
    if customer.biometric_consent_at is not None:
        consent = "given"
    elif erased_at is not None:
        consent = "withdrawn"
    else:
        consent = "none"
    pending = (
        ChangeRequest.objects.filter(
            customer=customer,
            state=ChangeRequest.State.PENDING,
            kind__in=[ChangeRequest.Kind.BIOMETRICS_ERASE, ChangeRequest.Kind.BIOMETRICS_REVOKE],
        )
        .order_by("-proposed_at")
        .first()
    )
    return BiometricStatus(
        consent=consent,
        consent_at=customer.biometric_consent_at,
        erased_at=erased_at,
        active_templates=FaceTemplate.objects.filter(customer=customer, revoked_at__isnull=True)
        .exclude(encoding="")
        .count(),
        pending_change_id=pending.pk if pending else None,
        pending_change=pending.get_kind_display() if pending else "",
    )


def enrolments_recent(*, limit: int = 10) -> QuerySet[Enrolment]:
    """The branch home page's latest captures, any customer."""
    return Enrolment.objects.select_related("customer").order_by("-created_at")[:limit]


def customer_enrolments(*, customer: Customer, limit: int = 20) -> QuerySet[Enrolment]:
    return customer.enrolments.select_related("created_by").order_by("-created_at")[:limit]


def enrolment_photo_thumbnail(*, enrolment_id: int, photo_id: int) -> bytes | None:
    """A kept shot of the enrolment as a small JPEG, decrypted in memory and never written anywhere in clear;
    None when there is no such kept shot or it cannot be shown (a missing file, one under a removed key)."""
    photo = EnrolmentPhoto.objects.filter(
        pk=photo_id, enrolment_id=enrolment_id, status=EnrolmentPhoto.Status.OK
    ).first()
    if photo is None:
        return None
    try:
        return thumbnail_jpeg(encrypted_file_read(photo.storage_name), size=(160, 120))
    except (OSError, InvalidToken):
        return None


def customer_enrolment_newest(customer: Customer) -> Enrolment | None:
    return Enrolment.objects.filter(customer=customer).order_by("-pk").first()
