"""The 1:N matcher tier: shards split by customer id, kept current by gallery-version deltas, asked by
scatter-gather; web processes never import the gallery. In-process first, then real workers on Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest
from django.db import transaction

from audit.models import AuditEvent
from biometrics.matcher import Nearest, match_nearest
from biometrics.models import Enrolment
from biometrics.services import gallery_sync, templates, verification
from kiosk.models import DeferredNaming, KioskSession
from tests.biometrics.test_enrolment_support import (  # noqa: F401
    OBAMA,
    OBAMA_PROBE,
    enrol,
    fresh_gallery,
    image,
    memo_engine,
)
from tests.biometrics.test_tasks import REPO, _Worker, real_celery  # noqa: F401
from tests.factories import (
    BankAccountFactory,
    CardFactory,
    CustomerFactory,
    EnrolmentFactory,
    FaceTemplateFactory,
    make_pan,
)

RNG = np.random.default_rng(11)


def _vector() -> np.ndarray:
    vector = RNG.normal(size=128).astype(np.float32)
    return vector / np.linalg.norm(vector) * 0.6


def _activate(customer, vector: np.ndarray) -> None:
    row = FaceTemplateFactory.create(
        enrolment=EnrolmentFactory.create(customer=customer, status=Enrolment.Status.ACTIVE), vector=vector
    )
    with transaction.atomic():
        state = gallery_sync.gallery_state_lock()
        version = gallery_sync.gallery_version_bump(state=state)
        templates.templates_activate(templates=[row], customer=customer, version=version)


# --- In process (make run, the unit suite) ------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_gallery")
def test_in_process_shards_hold_customers_by_id_and_a_query_sees_every_shard(db, settings):
    settings.MATCHER_SHARDS = 2
    customers = [CustomerFactory() for _ in range(4)]
    people = {customer.pk: _vector() for customer in customers}
    for customer in customers:
        _activate(customer, people[customer.pk])
    for shard in (0, 1):
        held = gallery_sync.gallery_shard_current(shard=shard, shards=2)
        expected = {pk for pk in people if pk % 2 == shard}
        assert len(held) == len(expected)
        assert {held.nearest(people[pk]).customer_id for pk in expected} == expected
    for customer_id, vector in people.items():
        answer = match_nearest(probes=vector)
        assert (answer.customer_id, answer.complete, answer.shards) == (customer_id, True, 2)
        assert answer.names_someone()
        others = match_nearest(probes=vector, exclude_customer_id=customer_id)
        assert others.customer_id != customer_id and not others.names_someone()


@pytest.mark.usefixtures("fresh_gallery")
def test_in_process_a_customer_activated_after_a_query_is_found_by_the_next(db, settings):
    settings.MATCHER_SHARDS = 2
    first, later = CustomerFactory(), CustomerFactory()
    _activate(first, _vector())
    vector = _vector()
    assert match_nearest(probes=vector).customer_id == first.pk
    _activate(later, vector)
    assert match_nearest(probes=vector).customer_id == later.pk


def test_web_process_modules_do_not_import_the_gallery(tmp_path):
    """A production web worker (a broker configured) imports the kiosk frame path, every API, every task
    module Celery autodiscovers, and gunicorn's post_fork: the gallery module is never loaded."""
    script = """
import gc, json, os, sys
import django
django.setup()
import atmsite.urls, atmsite.wsgi, kiosk.apis, kiosk.services.sessions, kiosk.services.naming
import biometrics.apis, branch.views, branch.views_cardless, biometrics.services.verification
import biometrics.services.enrolment_capture
from kiosk.services import face
face.frame_verify  # the door the frame path uses
from atmsite.celery import app
app.loader.import_default_modules()  # what a finalized app imports: every app's tasks.py
app.finalize()
loaded = sorted(m for m in sys.modules if m in (
    "biometrics.gallery", "biometrics.services.gallery_sync", "biometrics.services.matcher_shard"))
print(json.dumps({"loaded": loaded, "tasks": "biometrics.match_shard_query" in app.tasks}))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "atmsite.settings.base",
        "CELERY_BROKER_URL": "redis://127.0.0.1:9/0",  # never contacted: importing is the test
        "ATM_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("TEST_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"loaded": [], "tasks": True}


# --- Real matcher workers on Redis (two shards) -------------------------------------------------------------


@pytest.fixture
def matcher(real_celery, settings, monkeypatch, tmp_path):  # noqa: F811
    """Two matcher workers (shards 0 and 1) on queues of this test; start()/kill() them; the test process
    asks them through the broker."""
    from atmsite.celery import app as celery_app

    prefix = f"match-test-{uuid.uuid4().hex[:8]}"
    for name, value in {
        "MATCHER_SHARDS": "2",
        "MATCHER_QUEUE": prefix,
        "MATCHER_IN_PROCESS": "false",
        "MATCHER_NAMING_DEADLINE_S": "2",
    }.items():
        monkeypatch.setenv(name, value)
    settings.MATCHER_SHARDS, settings.MATCHER_QUEUE, settings.MATCHER_IN_PROCESS = 2, prefix, False
    settings.MATCHER_NAMING_DEADLINE_S = 2.0
    broker = str(celery_app.conf.broker_url)
    workers: list[_Worker] = []

    class Tier:
        def start(self) -> list[_Worker]:
            started = [
                _Worker(broker, f"{prefix}.{shard}", tmp_path / f"matcher{shard}-{len(workers)}.log")
                for shard in (0, 1)
            ]
            workers.extend(started)
            return started

        def kill(self) -> None:
            for worker in workers:
                worker.kill(signal.SIGKILL)

        def wait_ready(self, timeout: float = 180) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if match_nearest(probes=np.zeros(128), deadline_s=2).complete:
                    return
            logs = "\n".join(w.log.read_text(errors="replace")[-2000:] for w in workers if w.log.exists())
            raise AssertionError(f"matcher shards did not answer:\n{logs}")

    tier = Tier()
    try:
        yield tier
    finally:
        tier.kill()


def _other_shard_customer(of: int):
    customer = CustomerFactory()
    while customer.pk % 2 == of % 2:
        customer = CustomerFactory()
    return customer


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.faces
@pytest.mark.usefixtures("fresh_gallery", "memo_engine")
def test_two_shards_find_a_customer_enrolled_while_they_run_and_catch_a_duplicate_across_shards(
    matcher, teller, faces_dir
):
    matcher.start()
    matcher.wait_ready()
    obama = CustomerFactory(full_name="Barack Obama")
    assert enrol(obama, faces_dir, OBAMA, teller).status == Enrolment.Status.ACTIVE  # asked both shards
    from biometrics import engine

    probe_image = image(faces_dir, OBAMA_PROBE)
    probe = engine.encode_face(probe_image, engine.detect_faces(probe_image, purpose="enrol")[0])
    answer = match_nearest(probes=probe, deadline_s=5)
    assert (answer.customer_id, answer.complete, answer.shards) == (obama.pk, True, 2)
    assert answer.names_someone()

    twin = _other_shard_customer(obama.pk)  # the other shard: only the scatter finds Obama
    duplicate = enrol(twin, faces_dir, OBAMA, teller)
    assert duplicate.status == Enrolment.Status.NEEDS_REVIEW
    assert duplicate.duplicate_of_customer_id == obama.pk
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.DUPLICATE_IDENTITY, customer_id=twin.pk).exists()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.faces
@pytest.mark.usefixtures("fresh_gallery", "memo_engine")
def test_a_killed_matcher_leaves_the_kiosk_deciding_and_the_naming_arrives_later(
    matcher,
    real_celery,  # noqa: F811
    teller,
    faces_dir,
    kiosk,
    settings,
):
    from tests.kiosk.test_real_faces import _frames, _run

    settings.FACE_MATCH_FRAMES_REQUIRED = 2
    matcher.start()
    matcher.wait_ready()
    obama = CustomerFactory(full_name="Barack Obama")
    enrol(obama, faces_dir, OBAMA, teller)
    biden = _other_shard_customer(obama.pk)
    enrol(biden, faces_dir, ["people/joe_biden/biden_1.jpg"], teller)
    CardFactory(account=BankAccountFactory(customer=obama), customer=obama, pan=make_pan(61))
    verification.cache_clear()
    matcher.kill()
    tasks_worker = (
        real_celery()
    )  # the default queue: runs the naming task, retrying while the matcher is away

    people = faces_dir / "people"
    owner = _run(kiosk, make_pan(61), _frames(people / "barack_obama" / "obama_5_480p.jpg", 2))
    assert (owner.state, owner.verified_by) == ("verified", "face")  # 1:1 needs no matcher

    impostor = _run(kiosk, make_pan(61), _frames(people / "joe_biden" / "biden_2.jpg", 1))
    assert impostor.state == "face_pending" and impostor.face_last_outcome == "no_match"
    deferral = DeferredNaming.objects.get(session=impostor)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.FACE_NAMING_DEFERRED).count() == 1

    matcher.start()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        deferral.refresh_from_db()
        if deferral.outcome != "pending":
            break
        time.sleep(0.5)
    logs = "\n".join(
        worker.log.read_text(errors="replace")[-2000:] for worker in [tasks_worker] if worker.log.exists()
    )
    assert deferral.outcome == "mismatch", logs
    assert deferral.other_customer_id == biden.pk
    named = AuditEvent.objects.get(kind=AuditEvent.Kind.FACE_NAMING_COMPLETED)
    # A session still at the face check is not ended by the late answer (ending it would tell the person at
    # the kiosk whose face it was): it goes on as a stranger's, with the mismatch recorded and no code.
    assert named.data["other_customer_id"] == biden.pk and named.data["session_ended"] is False
    impostor = KioskSession.objects.get(pk=impostor.pk)
    assert impostor.state == "face_pending" and impostor.mismatch_seen


def test_nearest_over_partial_answers():
    """An incomplete answer still names someone if a shard that answered holds them (the asker decides)."""
    from biometrics.matcher import _gathered

    answers = [{"shard": 1, "customer_id": 5, "distance": 0.3, "version": 4}]
    partial = _gathered(answers, 2, reason="timeout")
    assert partial == Nearest(5, 0.3, 2, 1, reason="timeout")
    assert not partial.complete and partial.names_someone(threshold=0.5)
    duplicate_reply = _gathered(
        answers + answers + [{"shard": 0, "customer_id": None, "distance": None}], 2, reason="timeout"
    )
    assert duplicate_reply.complete and duplicate_reply.customer_id == 5
