"""The task queue (Redis) is down when a teller submits an enrolment: a clear 503 "try again", and nothing the
teller captured is lost. Simulated with a broker URL on a port nobody listens on; the machine's Redis is left
alone. (A worker SIGKILLed mid-encoding is covered in tests/biometrics/test_tasks.py.)"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from atmsite.celery import app as celery_app
from audit.models import AuditEvent
from tests.factories import CustomerFactory

DEAD_BROKER = "redis://127.0.0.1:6390/0"


@pytest.fixture
def dead_broker():
    saved = {
        key: celery_app.conf[key]
        for key in (
            "task_always_eager",
            "broker_url",
            "broker_connection_timeout",
            "task_publish_retry_policy",
        )
    }
    celery_app.conf.update(
        task_always_eager=False,
        broker_url=DEAD_BROKER,
        broker_connection_timeout=1,
        # Fail fast: the default publish retries would only make the teller wait longer for the same answer.
        task_publish_retry_policy={
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.1,
            "interval_max": 0.1,
        },
    )
    # As tests/biometrics/test_tasks.py: drop the app's cached router/queues, keep kombu's global pools.
    celery_app.__dict__.pop("amqp", None)
    try:
        yield
    finally:
        celery_app.conf.update(saved)
        celery_app.__dict__.pop("amqp", None)


@pytest.fixture
def captured(transactional_db, teller):
    """An enrolment with all its photos taken (rows made directly: the face engine is not what is tested)."""
    enrolment_capture = pytest.importorskip("biometrics.services.enrolment_capture")
    from biometrics.models import EnrolmentPhoto

    customer = CustomerFactory()
    enrolment_capture.customer_consent_record(customer=customer, actor=teller)
    enrolment = enrolment_capture.enrolment_start(customer=customer, actor=teller, photos_required=2)
    for index in range(2):
        EnrolmentPhoto.objects.create(
            enrolment=enrolment,
            index=index,
            storage_name=f"enrolments/fake-{index}.bin",
            sha256=f"{index:064d}",
        )
    client = APIClient()
    client.force_login(teller)
    return client, enrolment


def test_submit_with_the_broker_down_is_a_clear_try_again(dead_broker, captured):
    from biometrics.models import Enrolment, EnrolmentPhoto

    client, enrolment = captured
    client.raise_request_exception = False
    response = client.post(f"/api/biometrics/enrolments/{enrolment.pk}/submit/")
    assert response.status_code == 503, response.content[:300]
    body = response.json()
    assert body["code"] == "queue_unavailable"
    assert "try again" in body["detail"]
    assert response["Retry-After"]
    # Nothing the teller captured is lost: the enrolment and its photos are there, and the submission is on
    # record (the row commits before the publish is attempted, by design: on_commit).
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.QUEUED
    assert EnrolmentPhoto.objects.filter(enrolment=enrolment).count() == 2
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ENROLMENT_SUBMITTED).count() == 1


def test_once_the_broker_is_back_the_submission_can_be_retried(dead_broker, captured, monkeypatch):
    from biometrics import tasks

    client, enrolment = captured
    client.raise_request_exception = False
    assert client.post(f"/api/biometrics/enrolments/{enrolment.pk}/submit/").status_code == 503
    # The broker is back (eager mode stands in for it); the teller presses "submit" again.
    celery_app.conf.update(task_always_eager=True)
    queued: list[int] = []
    monkeypatch.setattr(
        tasks.enrolment_encode_task, "delay", lambda enrolment_id: queued.append(enrolment_id)
    )
    retry = client.post(f"/api/biometrics/enrolments/{enrolment.pk}/submit/")
    assert retry.status_code == 202, retry.content[:300]
    assert queued == [enrolment.pk]
