"""Back office: review actions go through the services, templates are read-only and never show the encoding,
and the seeding command for the demo faces."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import Customer
from accounts.roles import ADMINISTRATOR, TELLER
from biometrics.admin import revoke_biometrics
from biometrics.models import Enrolment
from tests.biometrics.test_enrolment_support import fresh_gallery, memo_engine  # noqa: F401
from tests.factories import CustomerFactory, EnrolmentFactory, FaceTemplateFactory, UserFactory

pytestmark = pytest.mark.usefixtures("fresh_gallery")


def _flagged(teller) -> Enrolment:
    """An enrolment the teller captured, waiting for review with one encoded template."""
    enrolment = EnrolmentFactory.create(created_by=teller, status=Enrolment.Status.NEEDS_REVIEW)
    FaceTemplateFactory.create(enrolment=enrolment)
    return enrolment


def test_admin_approve_action_needs_the_review_permission(client, administrator, teller, roles):
    enrolment = _flagged(teller)
    url = reverse("admin:biometrics_enrolment_changelist")
    # Another teller sees the enrolment (view/change) but may not review it: the action is refused.
    colleague = UserFactory(username="tom_teller")
    colleague.groups.add(Group.objects.get(name=TELLER))
    assert colleague.has_perm("biometrics.change_enrolment")
    assert not colleague.has_perm("biometrics.review_enrolment")
    client.force_login(colleague)
    client.post(url, {"action": "approve", "_selected_action": [enrolment.pk]})
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.NEEDS_REVIEW and enrolment.reviewed_by is None
    assert enrolment.templates.get().gallery_added_version is None

    client.force_login(administrator)
    answer = client.post(url, {"action": "approve", "_selected_action": [enrolment.pk]})
    assert answer.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE and enrolment.reviewed_by == administrator
    assert enrolment.templates.get().gallery_added_version is not None


def test_superuser_reject_action(client, teller, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", password="correct-horse-battery")
    enrolment = _flagged(teller)
    client.force_login(boss)
    client.post(
        reverse("admin:biometrics_enrolment_changelist"),
        {"action": "reject", "_selected_action": [enrolment.pk]},
    )
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.REJECTED and enrolment.reviewed_by == boss
    assert enrolment.templates.get().revoked_at is not None


def test_template_admin_never_shows_the_encoding(client, teller, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", password="correct-horse-battery")
    template = _flagged(teller).templates.get()
    client.force_login(boss)
    page = client.get(reverse("admin:biometrics_facetemplate_change", args=[template.pk])).content.decode()
    assert template.encoding not in page and "gAAAA" not in page
    assert "Encoding" not in page
    assert client.get(reverse("admin:biometrics_facetemplate_add")).status_code == 403


def test_revoke_biometrics_customer_action_proposes_and_a_second_person_approves(
    teller, administrator, django_user_model
):
    from accounts.approvals import services as approvals
    from accounts.models import ChangeRequest

    boss = django_user_model.objects.create_superuser("boss", password="correct-horse-battery")
    enrolment = _flagged(teller)
    request = RequestFactory().post("/", {"confirm": "yes", "reason": "Customer asked"})
    request.user = boss
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    revoke_biometrics(site._registry[Customer], request, Customer.objects.filter(pk=enrolment.customer_id))
    assert enrolment.templates.get().revoked_at is None  # a proposal only, even for a superuser
    change = ChangeRequest.objects.get(kind=ChangeRequest.Kind.BIOMETRICS_REVOKE)
    approvals.change_request_approve(change_request=change, actor=administrator)
    assert enrolment.templates.get().revoked_at is not None
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.REVOKED


def test_seed_demo_faces_skips_without_the_folder(db, monkeypatch, tmp_path, settings):
    settings.DEBUG = True
    settings.ATM_FACES_DIR = tmp_path / "missing"
    out = io.StringIO()
    call_command("seed_demo_faces", stdout=out)
    assert "No demo faces" in out.getvalue()


@pytest.mark.faces
@pytest.mark.usefixtures("memo_engine")
def test_seed_demo_faces_enrols_the_demo_customers(
    teller, faces_dir, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from accounts.demo import DEMO_CUSTOMERS

    settings.DEBUG = True

    settings.ATM_FACES_DIR = faces_dir
    for demo in DEMO_CUSTOMERS[1:3]:  # Joe Biden and Kit Harington: small folders, quick
        CustomerFactory(full_name=demo.full_name, phone=demo.phone)
    out = io.StringIO()
    # A first face waits for a second member of staff: in the demo the "admin" login approves it.
    UserFactory(username="admin").groups.add(Group.objects.get(name=ADMINISTRATOR))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo_faces", stdout=out)
    call_command("seed_demo_faces", stdout=out)  # encoded on commit after the first run: approved now
    active = Enrolment.objects.filter(status=Enrolment.Status.ACTIVE)
    assert active.count() == 2, out.getvalue()
    call_command("seed_demo_faces", stdout=out)  # idempotent
    assert Enrolment.objects.count() == 2
    assert "already enrolled" in out.getvalue()
