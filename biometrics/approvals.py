"""Face changes under four eyes: revoking or erasing a customer's templates, and an enrolment (a first face or
a replacement) that waits for a second member of staff.

Biometrics owns these kinds: it proposes them through accounts.approvals and registers what approving,
rejecting and showing them does (`biometrics_change_kinds_register`, from BiometricsConfig.ready). A flagged
enrolment has one record of truth, its ChangeRequest: it is decided only by change_request_approve / reject,
and the enrolment's state follows from that one call (`face_enrolment_approved` / `face_enrolment_rejected`).
The services are imported inside the handlers: the face engine (dlib, OpenCV) loads on first use, not when
the app is ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.approvals.services import Row, change_customer_pk, change_kind_register, change_propose, stale
from accounts.models import ChangeRequest, Customer
from audit.actors import Actor, actor_user

if TYPE_CHECKING:
    from biometrics.models import Enrolment

Kind = ChangeRequest.Kind
FACE_KINDS = (Kind.FACE_ENROL, Kind.FACE_REENROL)
NOTHING = "—"


def active_template_ids(customer_id: int) -> list[int]:
    """The customer's templates in the gallery now (sorted): what a face change's baseline records."""
    from biometrics.models import FaceTemplate

    return sorted(
        FaceTemplate.objects.filter(
            customer_id=customer_id, revoked_at__isnull=True, gallery_added_version__isnull=False
        ).values_list("pk", flat=True)
    )


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


def face_enrolment_propose(*, enrolment: Enrolment, template_count: int) -> ChangeRequest:
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
        target=face_enrolment_target(enrolment.pk),
        summary=f"{summary} ({template_count} templates)",
        payload={"enrolment_id": enrolment.pk, "templates": template_count},
        baseline={"template_ids": current},
        actor=enrolment.created_by,
        reason=f"Face captured at the branch by {getattr(enrolment.created_by, 'username', 'staff')}",
    )


def face_enrolment_target(enrolment_id: int) -> str:
    return f"enrolment:{enrolment_id}"


def face_enrolment_change_pending(enrolment_id: int) -> ChangeRequest | None:
    """The enrolment's undecided request, if it waits for four eyes (a duplicate-identity flag has none)."""
    return ChangeRequest.objects.filter(
        kind__in=FACE_KINDS, target=face_enrolment_target(enrolment_id), state=ChangeRequest.State.PENDING
    ).first()


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

    enrolment = (
        Enrolment.objects.select_for_update()
        .select_related("customer")
        .get(pk=change.payload["enrolment_id"])
    )
    if enrolment.status != Enrolment.Status.NEEDS_REVIEW:
        raise stale("The enrolment")
    return enrolment


def face_enrolment_approved(change: ChangeRequest, actor: Actor) -> None:
    from biometrics.services.enrolment_review import enrolment_review_settle

    enrolment = _face_enrolment(change)
    _lock_customer_with_same_face(change)
    enrolment_review_settle(
        enrolment=enrolment,
        actor=actor_user(actor),
        approve=True,
        note=change.reason or f"Change request #{change.pk}",
    )


def face_enrolment_rejected(change: ChangeRequest, actor: Actor) -> None:
    from biometrics.services.enrolment_review import enrolment_review_settle

    enrolment_review_settle(
        enrolment=_face_enrolment(change),
        actor=actor_user(actor),
        approve=False,
        note=change.reason or "Rejected",
    )


def _face_values(change: ChangeRequest) -> dict[str, Any]:
    return {
        "old": {"active_templates": len(change.baseline["template_ids"])},
        "new": {"enrolment_id": change.payload["enrolment_id"], "templates": change.payload["templates"]},
    }


def _removal_values(change: ChangeRequest) -> dict[str, Any]:
    return {"old": {"active_templates": len(change.baseline["template_ids"])}, "new": {"active_templates": 0}}


def _templates(count: int) -> str:
    return _("%(count)s active face templates") % {"count": count} if count else _("none (face check off)")


def _face_rows(change: ChangeRequest) -> list[Row]:
    before = len(change.baseline["template_ids"])
    return [
        Row(_("Face"), _templates(before), _templates(int(change.payload["templates"]))),
        Row(_("Enrolment"), NOTHING, f"#{change.payload['enrolment_id']}"),
    ]


def _removal_rows(change: ChangeRequest) -> list[Row]:
    return [Row(_("Face"), _templates(len(change.baseline["template_ids"])), _templates(0))]


def biometrics_change_kinds_register() -> None:
    for kind in (Kind.BIOMETRICS_REVOKE, Kind.BIOMETRICS_ERASE):
        change_kind_register(
            kind,
            apply=biometrics_revoke_approved if kind == Kind.BIOMETRICS_REVOKE else biometrics_erase_approved,
            values=_removal_values,
            rows=_removal_rows,
        )
    for kind in FACE_KINDS:
        change_kind_register(
            kind,
            apply=face_enrolment_approved,
            values=_face_values,
            rows=_face_rows,
            on_reject=face_enrolment_rejected,
            needs_active_customer=True,
            # Only a second person settles an enrolment: its proposer is whoever captured the face.
            cancellable=False,
        )
