"""Biometrics reads."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Customer
from biometrics.models import Enrolment, EnrolmentPhoto
from biometrics.services.verification import customer_has_active_templates

__all__ = ["customer_has_active_templates", "customers_search", "enrolment_progress"]


def customers_search(*, query: str, limit: int = 20) -> QuerySet[Customer]:
    """The branch search box: name, phone in any usual form, full card number or its last four digits."""
    from accounts.selectors import customers_find

    return customers_find(term=query).filter(is_active=True)[:limit]


def enrolment_progress(*, enrolment: Enrolment) -> dict[str, object]:
    """What the branch page polls: status, progress and the outcome in words."""
    kept_photo_ids = list(
        enrolment.photos.filter(status=EnrolmentPhoto.Status.OK)
        .order_by("index")
        .values_list("pk", flat=True)
    )
    taken = len(kept_photo_ids)
    messages: dict[str, str] = {
        Enrolment.Status.CAPTURING: f"{taken} of {enrolment.photos_required} photos taken.",
        Enrolment.Status.QUEUED: "Waiting for the encoder…",
        Enrolment.Status.ENCODING: f"{enrolment.encoded_count} of {enrolment.photos_required} encoded.",
        Enrolment.Status.ACTIVE: "Enrolment complete: the customer can use face verification at the ATM.",
        Enrolment.Status.NEEDS_REVIEW: (
            "This face is very close to another customer's. A supervisor must review the enrolment before it "
            "can be used."
            if enrolment.duplicate_of_customer_id
            else "The customer already has a face on file: a second member of staff must approve the new one "
            "(Pending approvals) before it replaces the old one."
        ),
        Enrolment.Status.FAILED: enrolment.failure_reason or "Enrolment failed; please retake the photos.",
        Enrolment.Status.REJECTED: "The reviewer rejected this enrolment.",
        Enrolment.Status.SUPERSEDED: "A newer enrolment replaced this one.",
        Enrolment.Status.REVOKED: "The customer's biometrics were revoked.",
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
