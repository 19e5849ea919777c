"""Templates at rest, revocation, erasure and the versioned gallery — with synthetic encodings (no engine)."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from biometrics.models import (
    Enrolment,
    EnrolmentPhoto,
    FaceTemplate,
    GalleryState,
    encoding_pack,
    encoding_unpack,
)
from biometrics.services import gallery_sync, templates
from tests.biometrics.test_enrolment_support import fresh_gallery  # noqa: F401
from tests.factories import CustomerFactory, EnrolmentFactory, FaceTemplateFactory, UserFactory

pytestmark = pytest.mark.usefixtures("fresh_gallery")
RNG = np.random.default_rng(7)


def _vector() -> np.ndarray:
    vector = RNG.normal(size=128).astype(np.float32)
    return vector / np.linalg.norm(vector) * 0.6


def _activate(customer, count: int = 3, vectors: list[np.ndarray] | None = None) -> list[FaceTemplate]:
    """What enrolment_encode does once photos are encoded, minus the engine: rows + one gallery version."""
    enrolment = EnrolmentFactory.create(
        customer=customer, photos_required=count, status=Enrolment.Status.ACTIVE
    )
    rows = [
        FaceTemplateFactory.create(enrolment=enrolment, vector=vector)
        for vector in (vectors or [_vector() for _ in range(count)])
    ]
    with transaction.atomic():
        state = gallery_sync.gallery_state_lock()
        version = gallery_sync.gallery_version_bump(state=state)
        templates.templates_activate(templates=rows, customer=customer, version=version)
    return [FaceTemplate.objects.get(pk=row.pk) for row in rows]


def test_encoding_round_trip_is_exact_and_not_pickle():
    vector = _vector()
    packed = encoding_pack(vector)
    assert len(packed) == 684 and not packed.startswith("gASV")  # base64 of 512 bytes, not a pickle stream
    assert np.array_equal(encoding_unpack(packed), vector)


def test_encoding_unpack_refuses_a_wrong_size():
    with pytest.raises(ValueError, match="wrong size"):
        encoding_unpack(encoding_pack(_vector())[:40])


def test_template_column_holds_fernet_ciphertext(db):
    customer = CustomerFactory()
    template = _activate(customer, 1)[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT encoding FROM biometrics_facetemplate WHERE id = %s", [template.pk])
        (stored,) = cursor.fetchone()
    plain = encoding_pack(encoding_unpack(template.encoding))
    assert stored.startswith("gAAAAA")  # Fernet token
    assert plain not in stored and plain[:20] not in stored
    assert np.array_equal(
        encoding_unpack(FaceTemplate.objects.get(pk=template.pk).encoding), _decoded(template)
    )


def _decoded(template: FaceTemplate) -> np.ndarray:
    return encoding_unpack(template.encoding)


def test_gallery_picks_up_an_addition_by_delta_without_reloading(db):
    first = CustomerFactory()
    _activate(first, 3)
    gallery = gallery_sync.gallery_current()
    assert len(gallery) == 3
    version = gallery.version

    second = CustomerFactory()
    second_rows = _activate(second, 2)
    same = gallery_sync.gallery_current()
    assert same is gallery  # the same object, brought forward: no full reload
    assert len(same) == 5 and same.version == version + 1
    match = same.nearest(_decoded(second_rows[0]))
    assert match.customer_id == second.pk and match.distance < 1e-5


def test_gallery_drops_a_revocation_by_delta(db):
    keep, revoked = CustomerFactory(), CustomerFactory()
    _activate(keep, 2)
    rows = _activate(revoked, 2)
    gallery = gallery_sync.gallery_current()
    assert len(gallery) == 4

    result = templates.biometrics_revoke(customer=revoked, actor=UserFactory(), reason="lost consent")
    assert result.templates_revoked == 2
    same = gallery_sync.gallery_current()
    assert same is gallery and len(same) == 2
    nearest = same.nearest(_decoded(rows[0]))
    assert nearest is None or nearest.customer_id == keep.pk
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.BIOMETRICS_REVOKED, customer_id=revoked.pk).exists()


def test_re_enrolment_revokes_previous_templates_and_keeps_them(db):
    customer = CustomerFactory()
    old = _activate(customer, 2)
    new = _activate(customer, 2)
    for row in old:
        row.refresh_from_db()
        assert row.revoked_at is not None and row.gallery_revoked_version == new[0].gallery_added_version
    gallery = gallery_sync.gallery_current()
    assert len(gallery) == 2
    assert gallery.nearest(_decoded(new[0])).template_id == new[0].pk
    assert FaceTemplate.objects.filter(customer=customer).count() == 4


def test_gallery_full_load_after_a_rebuild_request(db):
    _activate(CustomerFactory(), 2)
    gallery = gallery_sync.gallery_current()
    state = gallery_sync.gallery_rebuild_request()
    reloaded = gallery_sync.gallery_current()
    assert reloaded is not gallery and len(reloaded) == 2
    assert GalleryState.objects.get(pk=1).epoch == state.epoch


def test_a_delta_spanning_add_and_revoke_of_the_same_rows_leaves_them_out(db):
    assert len(gallery_sync.gallery_current()) == 0  # held at version 0
    customer = CustomerFactory()
    _activate(customer, 2)
    templates.biometrics_revoke(customer=customer, actor=None)
    assert len(gallery_sync.gallery_current()) == 0


def test_erase_blanks_templates_deletes_photos_and_consent(db):
    from django.utils import timezone

    staff = UserFactory()
    customer = CustomerFactory(biometric_consent_at=timezone.now(), biometric_consent_by=staff)
    rows = _activate(customer, 2)
    EnrolmentPhoto.objects.create(enrolment=rows[0].enrolment, index=1, storage_name="x", sha256="0" * 64)
    result = templates.biometrics_erase(customer=customer, actor=staff)
    assert result.templates_erased == 2 and result.photos_erased == 1
    assert not EnrolmentPhoto.objects.filter(enrolment=rows[0].enrolment).exists()
    assert set(
        FaceTemplate.objects.filter(pk__in=[r.pk for r in rows]).values_list("encoding", flat=True)
    ) == {""}
    customer.refresh_from_db()
    assert customer.biometric_consent_at is None
    assert len(gallery_sync.gallery_current()) == 0
    # One erasure event, by the audit app, carrying what was erased here as well as what it erased itself.
    erased = AuditEvent.objects.get(kind=AuditEvent.Kind.BIOMETRICS_ERASED, customer_id=customer.pk)
    assert erased.actor_id == staff.pk
    assert erased.data["templates_erased"] == 2 and erased.data["photos_erased"] == 1
    assert "events_blanked" in erased.data
