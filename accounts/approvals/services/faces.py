"""Face changes: revoking or erasing the templates, and a re-enrolment that replaces them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from accounts.models import ChangeRequest, Customer
from audit.actors import Actor, actor_user

from .common import Kind, State, active_template_ids, change_customer_pk, change_decide, change_propose, stale

if TYPE_CHECKING:  # biometrics builds on accounts, not the other way round
    from biometrics.models import Enrolment


def _biometrics_propose(*, kind: str, customer: Customer, actor: Actor, reason: str) -> ChangeRequest:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    template_ids = active_template_ids(customer.pk)
    verb = "Revoke" if kind == Kind.BIOMETRICS_REVOKE else "Erase"
    return change_propose(
        kind=kind,
        customer=customer,
        target=f"customer:{customer.pk}",
        summary=f"{verb} face verification ({len(template_ids)} active templates)",
        payload={"reason": reason.strip()[:200]},
        baseline={"template_ids": template_ids},
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def biometrics_revoke_propose(*, customer: Customer, actor: Actor, reason: str = "") -> ChangeRequest:
    return _biometrics_propose(kind=Kind.BIOMETRICS_REVOKE, customer=customer, actor=actor, reason=reason)


@transaction.atomic
def biometrics_erase_propose(*, customer: Customer, actor: Actor, reason: str = "") -> ChangeRequest:
    return _biometrics_propose(kind=Kind.BIOMETRICS_ERASE, customer=customer, actor=actor, reason=reason)


FACE_KINDS = (Kind.FACE_ENROL, Kind.FACE_REENROL)


def face_reenrol_propose(*, enrolment: Enrolment, template_count: int) -> ChangeRequest:
    """Called by the enrolment service, inside its transaction, when an enrolment is encoded: the new face
    waits for a second member of staff, whether it replaces a face (re-enrolment) or is the customer's
    first active one (never enrolled, revoked or erased): either gives whoever was at the camera the
    account."""
    current = active_template_ids(enrolment.customer_id)
    if current:
        kind, summary = Kind.FACE_REENROL, f"Replace the face with enrolment #{enrolment.pk}"
    else:
        kind, summary = Kind.FACE_ENROL, f"First face: enrolment #{enrolment.pk}"
    return change_propose(
        kind=kind,
        customer=enrolment.customer,
        target=f"enrolment:{enrolment.pk}",
        summary=f"{summary} ({template_count} templates)",
        payload={"enrolment_id": enrolment.pk, "templates": template_count},
        baseline={"template_ids": current},
        actor=enrolment.created_by,
        reason=f"Face captured at the branch by {getattr(enrolment.created_by, 'username', 'staff')}",
    )


def face_reenrol_settle(*, enrolment: Enrolment, actor: Actor, approved: bool, note: str = "") -> None:
    """The enrolment was reviewed directly (biometrics' own review): its pending request is settled the same
    way, so the two views of one four-eyes decision never disagree. Caller holds the enrolment lock."""
    change = (
        ChangeRequest.objects.select_for_update()
        .filter(kind__in=FACE_KINDS, target=f"enrolment:{enrolment.pk}", state=State.PENDING)
        .first()
    )
    if change is None:
        return
    change_decide(change, actor=actor, state=State.APPROVED if approved else State.REJECTED, reason=note)


def _lock_customer_with_same_face(change: ChangeRequest) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=change_customer_pk(change))
    if active_template_ids(customer.pk) != change.baseline["template_ids"]:
        raise stale("The customer's active face templates")
    return customer


def biometrics_revoke_approved(change: ChangeRequest, actor: Actor) -> None:
    from biometrics.services.templates import biometrics_revoke

    customer = _lock_customer_with_same_face(change)
    biometrics_revoke(customer=customer, actor=actor_user(actor), reason=change.payload.get("reason", ""))


def biometrics_erase_approved(change: ChangeRequest, actor: Actor) -> None:
    from biometrics.services.templates import biometrics_erase

    biometrics_erase(customer=_lock_customer_with_same_face(change), actor=actor_user(actor))


def _face_enrolment(change: ChangeRequest) -> Enrolment:
    from biometrics.models import Enrolment

    enrolment = Enrolment.objects.select_for_update().get(pk=change.payload["enrolment_id"])
    if enrolment.status != Enrolment.Status.NEEDS_REVIEW:
        raise stale("The enrolment")
    return enrolment


def face_reenrol_approved(change: ChangeRequest, actor: Actor) -> None:
    from biometrics.services.enrollment import enrolment_review

    enrolment = _face_enrolment(change)
    _lock_customer_with_same_face(change)
    enrolment_review(
        enrolment=enrolment, actor=actor_user(actor), approve=True, note=f"Change request #{change.pk}"
    )


def face_reenrol_rejected(change: ChangeRequest, actor: Actor) -> None:
    from biometrics.services.enrollment import enrolment_review

    enrolment_review(
        enrolment=_face_enrolment(change),
        actor=actor_user(actor),
        approve=False,
        note=change.reason or "Rejected",
    )
