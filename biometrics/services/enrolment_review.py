"""Branch enrolment, review: a second member of staff settles an enrolment that waits for review."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.approvals.services import change_request_approve, change_request_reject
from accounts.notices import Notice, customer_notice
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from biometrics import engine
from biometrics.approvals import face_enrolment_change_pending
from biometrics.errors import BiometricsError
from biometrics.models import Enrolment, FaceTemplate
from biometrics.services.enrolment_capture import enrolment_audit
from biometrics.services.enrolment_encoding import enrolment_activate
from biometrics.services.gallery_state import gallery_state_lock


@transaction.atomic
def enrolment_review(*, enrolment: Enrolment, actor: User | None, approve: bool, note: str = "") -> Enrolment:
    """A second member of staff settles a possible duplicate identity or a re-enrolment of a customer who
    already had a face: approve activates the templates (e.g. identical twins, a customer with two records, a
    new face), reject revokes them.

    An enrolment waiting for four eyes (a first face or a replacement) is decided only through its change
    request: this approves or rejects that request, and the enrolment follows from the request's handler
    (biometrics.approvals). Only a duplicate-identity flag, which has no request, is settled here directly."""
    change = face_enrolment_change_pending(enrolment.pk)
    if change is not None:
        # Not locked here: change_request_approve/reject lock the request, then the customer and enrolment,
        # in the order every approval takes them, and refuse a request decided meanwhile.
        if approve:
            change_request_approve(change_request=change, actor=actor, reason=note)
        else:
            change_request_reject(change_request=change, actor=actor, reason=note.strip() or "Rejected")
        return Enrolment.objects.select_related("customer").get(pk=enrolment.pk)
    enrolment = Enrolment.objects.select_for_update().select_related("customer").get(pk=enrolment.pk)
    return enrolment_review_settle(enrolment=enrolment, actor=actor, approve=approve, note=note)


def enrolment_review_settle(
    *, enrolment: Enrolment, actor: User | None, approve: bool, note: str = ""
) -> Enrolment:
    """Settle a locked enrolment that needs review: activate or revoke its templates, with the audit events.
    Called by enrolment_review for a duplicate-identity flag and by the approval handlers of the face change
    kinds once the change request is decided (which is why no request may be pending here)."""
    if enrolment.status != Enrolment.Status.NEEDS_REVIEW:
        raise ApplicationError(BiometricsError.NOT_IN_REVIEW)
    if face_enrolment_change_pending(enrolment.pk) is not None:
        # Proposed while this review waited for the enrolment lock: the request is the decision, not this.
        raise ApplicationError(BiometricsError.CHANGE_PENDING, status_code=409)
    if actor is not None and enrolment.created_by_id == actor.pk:
        raise ApplicationError(BiometricsError.FOUR_EYES, status_code=403)
    enrolment.reviewed_by = actor
    enrolment.reviewed_at = timezone.now()
    enrolment.review_note = note.strip()[:300]
    enrolment.save(update_fields=["reviewed_by", "reviewed_at", "review_note", "updated_at"])
    state = gallery_state_lock()
    templates = list(
        enrolment.templates.filter(engine_version=engine.ENGINE_VERSION, revoked_at__isnull=True)
    )
    if approve:
        had_face = FaceTemplate.objects.filter(
            customer_id=enrolment.customer_id, revoked_at__isnull=True, gallery_added_version__isnull=False
        ).exists()
        enrolment_activate(enrolment=enrolment, templates=templates, state=state)
        customer_notice(
            customer=enrolment.customer, notice=Notice.FACE_REPLACED if had_face else Notice.FACE_ENROLLED
        )
        enrolment_audit(
            enrolment,
            AuditEvent.Kind.ENROLMENT_COMPLETED,
            AuditEvent.Outcome.SUCCESS,
            actor=actor,
            templates=len(templates),
            engine=engine.ENGINE_VERSION,
        )
    else:
        enrolment.templates.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        enrolment.status = Enrolment.Status.REJECTED
        enrolment.save(update_fields=["status", "updated_at"])
    enrolment_audit(
        enrolment,
        AuditEvent.Kind.ENROLMENT_REVIEWED,
        AuditEvent.Outcome.SUCCESS,
        actor=actor,
        approved=approve,
        duplicate_of_customer_id=enrolment.duplicate_of_customer_id,
        note=enrolment.review_note,
    )
    return enrolment
