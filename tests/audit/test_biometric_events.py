"""Re-encoding templates and superseding an enrolment are audited, each in the transaction that makes the
change (real photos, real engine)."""

from __future__ import annotations

import pytest

from accounts.approvals.services import change_request_approve
from accounts.models import ChangeRequest
from audit.models import AuditEvent
from audit.selectors import chain_verify
from biometrics import engine
from biometrics.models import Enrolment, FaceTemplate
from biometrics.tasks import templates_reencode_task
from tests.biometrics.test_enrolment_support import BIDEN, enrol, fresh_gallery, memo_engine  # noqa: F401
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.faces, pytest.mark.usefixtures("fresh_gallery", "memo_engine")]


def test_reencoding_templates_is_audited(teller, faces_dir, monkeypatch):
    customer = CustomerFactory()
    enrolment = enrol(customer, faces_dir, BIDEN, teller)
    old = sorted(FaceTemplate.objects.filter(customer=customer).values_list("id", flat=True))
    monkeypatch.setattr(engine, "ENGINE_VERSION", "test-engine/2")
    templates_reencode_task.apply(args=["test-engine/2"]).get()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.TEMPLATES_REENCODED)
    assert event.customer_id == customer.pk
    assert event.outcome == AuditEvent.Outcome.SUCCESS
    assert event.data["enrolment_id"] == enrolment.pk
    assert event.data["engine"] == "test-engine/2"
    assert event.data["templates"] == 2 and event.data["templates_revoked"] == len(old)
    # Idempotent run: nothing swapped, nothing recorded.
    templates_reencode_task.apply(args=["test-engine/2"]).get()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TEMPLATES_REENCODED).count() == 1
    assert chain_verify().ok


def test_superseded_enrolment_is_audited(teller, administrator, faces_dir):
    customer = CustomerFactory()
    first = enrol(customer, faces_dir, BIDEN[:1], teller)
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ENROLMENT_SUPERSEDED).exists()
    second = enrol(customer, faces_dir, BIDEN[1:], teller)
    # A customer who already has a face is re-enrolled only once a second member of staff approves.
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ENROLMENT_SUPERSEDED).exists()
    change_request_approve(
        change_request=ChangeRequest.objects.get(kind=ChangeRequest.Kind.FACE_REENROL), actor=administrator
    )
    first.refresh_from_db()
    assert first.status == Enrolment.Status.SUPERSEDED
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ENROLMENT_SUPERSEDED)
    assert event.customer_id == customer.pk
    assert event.data["enrolment_id"] == second.pk
    assert event.data["superseded_enrolment_ids"] == [first.pk]
    assert event.data["templates_revoked"] == 1
    approved = AuditEvent.objects.get(kind=AuditEvent.Kind.CHANGE_APPROVED, data__change_kind="face_reenrol")
    assert abs(event.seq - approved.seq) <= 3  # written by the approval's activation, in its transaction
    assert chain_verify().ok
