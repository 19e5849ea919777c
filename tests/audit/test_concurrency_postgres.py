"""Real concurrency: 20 connections append to the chain at once; the head lock keeps it gap-free."""

from __future__ import annotations

from django.db import transaction

from audit.models import AuditChainHead, AuditEvent, AuditSnapshot
from audit.selectors import chain_verify
from audit.services import audit_event_record
from tests.support.concurrency import run_at_once

WORKERS = 20


def test_twenty_threads_recording_at_once_leave_a_valid_chain(postgres, jpeg):
    # The flush of transactional tests removes the head row: the first appends also race to create it.
    AuditChainHead.objects.all().delete()

    def record(index: int) -> None:
        for round_ in range(3):
            with transaction.atomic():
                audit_event_record(
                    kind=AuditEvent.Kind.FACE_DECISION,
                    data={"worker": index, "round": round_},
                    personal={"name": f"worker {index}"},
                    snapshot=jpeg if round_ == 0 else None,
                )

    assert run_at_once(record, WORKERS) == [None] * WORKERS
    status = chain_verify()
    assert status.ok, status
    assert status.checked == status.head_seq == WORKERS * 3
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, WORKERS * 3 + 1))
    assert AuditSnapshot.objects.count() == WORKERS
