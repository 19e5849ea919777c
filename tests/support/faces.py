"""Synthetic face templates for tests that need a customer with an active face but no engine."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.db import transaction

from biometrics.models import Enrolment, FaceTemplate, encoding_pack

_FACE = np.random.default_rng(11).normal(size=128).astype(np.float32)


def same_face_vector() -> np.ndarray:
    """Another view of one synthetic face: within the match threshold of every other one."""
    vector = _FACE + np.random.default_rng().normal(scale=0.01, size=128).astype(np.float32)
    return vector / np.linalg.norm(vector) * 0.6


def active_templates(customer: object, count: int) -> list[FaceTemplate]:
    """What a finished first enrolment leaves: `count` templates in the gallery at a new version."""
    return active_templates_of(customer, [same_face_vector() for _ in range(count)])


def active_templates_of(customer: object, encodings: Sequence[np.ndarray]) -> list[FaceTemplate]:
    """A finished first enrolment of these encodings (real ones from the engine, or synthetic)."""
    from biometrics.services import gallery_sync, templates

    enrolment = Enrolment.objects.create(customer=customer, photos_required=len(encodings), status="active")
    rows = [
        FaceTemplate.objects.create(
            customer=customer,
            enrolment=enrolment,
            encoding=encoding_pack(encoding),
            engine_version=gallery_sync.engine.ENGINE_VERSION,
        )
        for encoding in encodings
    ]
    with transaction.atomic():
        state = gallery_sync.gallery_state_lock()
        version = gallery_sync.gallery_version_bump(state=state)
        templates.templates_activate(templates=rows, customer=customer, version=version)
    return rows


def encoded_enrolment(customer: object, actor: object, count: int = 2) -> Enrolment:
    """A new enrolment whose photos were encoded (same face), waiting for _enrolment_finish."""
    from biometrics import engine

    enrolment = Enrolment.objects.create(
        customer=customer, created_by=actor, photos_required=count, status=Enrolment.Status.ENCODING
    )
    for _ in range(count):
        FaceTemplate.objects.create(
            customer=customer,
            enrolment=enrolment,
            encoding=encoding_pack(same_face_vector()),
            engine_version=engine.ENGINE_VERSION,
        )
    return enrolment


def first_enrolment_approve(customer: object) -> None:
    """A second member of staff approves the customer's pending first enrolment (issue 20: a first face
    waits for four eyes), for tests whose subject is what comes after enrolment."""
    from django.contrib.auth.models import Group, User

    from accounts.approvals.services import change_request_approve
    from accounts.models import ChangeRequest
    from accounts.roles import SUPERVISOR, roles_sync

    pending = ChangeRequest.objects.filter(
        customer=customer, kind=ChangeRequest.Kind.FACE_ENROL, state=ChangeRequest.State.PENDING
    )
    if not pending.exists():
        return
    if not Group.objects.filter(name=SUPERVISOR).exists():
        roles_sync()
    checker, created = User.objects.get_or_create(username="second_pair_of_eyes", defaults={"is_staff": True})
    if created:
        checker.groups.add(Group.objects.get(name=SUPERVISOR))
    for change in pending:
        change_request_approve(change_request=change, actor=checker)
