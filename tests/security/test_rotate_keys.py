"""Key rotation: templates, enrolment photos and audit snapshots written under key A; with keys [B, A]
`rotate_keys` re-encrypts them; with [B] alone everything still decrypts (and with [A] alone nothing does)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import transaction

from atmsite.crypto import InvalidToken, encrypted_file_read, encrypted_file_save
from audit.models import AuditEvent, AuditSnapshot
from audit.services import audit_event_record
from tests.factories import CustomerFactory

biometrics_models = pytest.importorskip("biometrics.models")
pytestmark = pytest.mark.django_db

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
PHOTO = b"\xff\xd8 enrolment photo bytes"
SNAPSHOT = b"\xff\xd8 failing frame bytes"


@pytest.fixture
def keys(settings):
    """Switch FIELD_ENCRYPTION_KEY, and the field library's crypter built at import with it."""
    from encrypted_model_fields import fields

    original = fields.CRYPTER

    def use(*names: str) -> None:
        settings.FIELD_ENCRYPTION_KEY = list(names)
        fields.CRYPTER = fields.get_crypter()

    yield use
    fields.CRYPTER = original


@pytest.fixture
def written_under_a(keys, settings, tmp_path, teller):
    settings.MEDIA_ROOT = tmp_path
    keys(KEY_A)
    from biometrics.models import Enrolment, EnrolmentPhoto, FaceTemplate, encoding_pack

    customer = CustomerFactory()
    enrolment = Enrolment.objects.create(customer=customer, photos_required=3)
    vectors = [np.linspace(-0.2, 0.2, 128, dtype=np.float32) + index for index in range(3)]
    for index, vector in enumerate(vectors):
        photo = EnrolmentPhoto.objects.create(
            enrolment=enrolment,
            index=index,
            storage_name=encrypted_file_save(folder="enrolments", data=PHOTO + bytes([index])),
            sha256=f"{index:064d}",
        )
        FaceTemplate.objects.create(
            customer=customer,
            enrolment=enrolment,
            photo=photo,
            encoding=encoding_pack(vector),
            engine_version="t",
        )
    with transaction.atomic():
        audit_event_record(kind=AuditEvent.Kind.FACE_DECISION, outcome="failure", data={}, snapshot=SNAPSHOT)
    return vectors


def _everything_readable() -> None:
    from biometrics.models import EnrolmentPhoto, FaceTemplate, encoding_unpack

    for template in FaceTemplate.objects.order_by("pk"):
        encoding_unpack(template.encoding)  # raises on a ciphertext the current keys cannot open
    for photo in EnrolmentPhoto.objects.order_by("index"):
        assert encrypted_file_read(photo.storage_name) == PHOTO + bytes([photo.index])
    assert encrypted_file_read(AuditSnapshot.objects.get().storage_name) == SNAPSHOT


def test_rotation_moves_everything_to_the_newest_key(
    written_under_a, keys, tmp_path, django_capture_on_commit_callbacks
):
    from biometrics.models import EnrolmentPhoto, FaceTemplate, encoding_unpack

    old_files = set(EnrolmentPhoto.objects.values_list("storage_name", flat=True))
    keys(KEY_B, KEY_A)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("rotate_keys", "--batch-size", "2", stdout=out)
    report = out.getvalue()
    assert "templates: 3 re-encrypted" in report
    assert "photos: 3 re-encrypted" in report
    assert "snapshots: 1 re-encrypted" in report
    assert "newest key alone" in report
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.KEYS_ROTATED)
    assert (event.outcome, event.data["templates_rotated"], event.data["verify_failures"]) == (
        "success",
        3,
        0,
    )

    keys(KEY_B)
    _everything_readable()
    for template, vector in zip(FaceTemplate.objects.order_by("pk"), written_under_a, strict=True):
        assert np.array_equal(encoding_unpack(template.encoding), vector)
    # The old ciphertext files are gone (deleted after the commit), not left readable under key A.
    assert not old_files & set(EnrolmentPhoto.objects.values_list("storage_name", flat=True))
    assert not any((tmp_path / name).exists() for name in old_files)

    keys(KEY_A)
    with pytest.raises(InvalidToken):
        encrypted_file_read(AuditSnapshot.objects.get().storage_name)


def test_rotation_is_idempotent(written_under_a, keys):
    keys(KEY_B, KEY_A)
    call_command("rotate_keys", stdout=io.StringIO())
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "templates: 0 re-encrypted, 3 already under the newest key" in out.getvalue()
    assert "photos: 0 re-encrypted, 3 already" in out.getvalue()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.KEYS_ROTATED).count() == 2
    keys(KEY_B)
    _everything_readable()


def test_rotation_without_the_old_key_fails_loudly_and_changes_nothing(written_under_a, keys):
    from biometrics.models import FaceTemplate

    raw_before = list(FaceTemplate.objects.values_list("pk", flat=True))
    keys(KEY_B)  # the operator forgot to keep key A in the list
    with pytest.raises(CommandError, match="do not decrypt with the newest key"):
        call_command("rotate_keys", stdout=io.StringIO())
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.KEYS_ROTATED)
    assert event.outcome == "failure"
    assert event.data["templates_unreadable"] == 3
    keys(KEY_A)
    _everything_readable()  # nothing was double-encrypted or lost
    assert list(FaceTemplate.objects.values_list("pk", flat=True)) == raw_before


def test_rotation_reports_the_audit_chain_keys_and_refuses_a_dropped_one(db, settings):
    """Audit events are never re-chained: each names its chain key, so a retired key must stay listed."""
    from audit.chain import chain_key_id
    from tests.audit.conftest import record

    old_key = settings.AUDIT_CHAIN_KEY[0]
    record(kind=AuditEvent.Kind.DEPOSIT)
    settings.AUDIT_CHAIN_KEY = ["a-new-audit-chain-key", old_key]
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert f"new events chained with key {chain_key_id('a-new-audit-chain-key')}" in out.getvalue()
    assert chain_key_id(old_key) in out.getvalue()
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.KEYS_ROTATED).get()
    assert event.data["audit_chain_keys_used"] == [chain_key_id(old_key)]

    settings.AUDIT_CHAIN_KEY = ["a-new-audit-chain-key"]
    with pytest.raises(CommandError, match="put the retired key"):
        call_command("rotate_keys", stdout=io.StringIO())


def test_each_app_registers_its_encrypted_data_once():
    # audit cannot import biometrics: the command rotates what the apps registered from their ready().
    from audit.rekeying import encrypted_column_register, encrypted_columns, encrypted_files

    assert [(c.name, c.model._meta.label, c.field) for c in encrypted_columns()] == [
        ("templates", "biometrics.FaceTemplate", "encoding"),
        ("second_model_templates", "biometrics.FaceTemplate", "reid_encoding"),
        ("naming_probes", "kiosk.DeferredNaming", "probe"),
        ("cash_in_keys", "kiosk.CashInDevice", "signing_key"),
        ("totp_secrets", "portal.CustomerLogin", "totp_secret"),
        ("totp_pending_secrets", "portal.CustomerLogin", "totp_pending_secret"),
    ]
    assert sorted(files.name for files in encrypted_files()) == ["photos", "snapshots"]
    with pytest.raises(ValueError, match="already registered"):
        encrypted_column_register(name="photos", model=AuditSnapshot, field="storage_name")


def test_every_encrypted_column_of_every_app_is_rotated():
    # A new encrypted field that nobody registers would stay under a retired key (and stop decrypting once
    # it is dropped): every one must be in the list the command walks.
    from django.apps import apps
    from encrypted_model_fields.fields import EncryptedMixin

    from audit.rekeying import encrypted_columns

    registered = {(c.model._meta.label, c.field) for c in encrypted_columns()}
    encrypted = {
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, EncryptedMixin)
    }
    assert encrypted and encrypted <= registered, encrypted - registered


def test_a_cash_in_key_and_a_second_model_template_move_to_the_newest_key(written_under_a, keys):
    from biometrics.models import REID_ENCODING_SIZE, FaceTemplate, encoding_pack, encoding_unpack
    from kiosk.models import CashInDevice, Kiosk

    kiosk = Kiosk.objects.create(name="rotation kiosk", location="test")
    device = CashInDevice.objects.create(kiosk=kiosk, device_id="cim_rotation", signing_key="k" * 43)
    template = FaceTemplate.objects.order_by("pk").first()
    template.reid_encoding = encoding_pack(
        np.full(REID_ENCODING_SIZE, 0.0625, np.float32), size=REID_ENCODING_SIZE
    )
    template.save(update_fields=["reid_encoding"])
    keys(KEY_B, KEY_A)
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "second_model_templates: 3 re-encrypted" in out.getvalue()  # blank ones are ciphertext too
    assert "cash_in_keys: 1 re-encrypted" in out.getvalue()
    keys(KEY_B)
    assert CashInDevice.objects.get(pk=device.pk).signing_key == "k" * 43
    reread = encoding_unpack(FaceTemplate.objects.get(pk=template.pk).reid_encoding, size=REID_ENCODING_SIZE)
    assert np.allclose(reread, 0.0625)
