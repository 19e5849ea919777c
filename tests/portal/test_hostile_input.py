"""Hostile input to every portal form: a 4xx with a reason (or the same page), never a 500, nothing written;
cross-site posts refused; markup shown escaped, to the customer and in the fraud queue."""

from __future__ import annotations

import pytest
from django.test import Client

from kiosk.vocabulary import FailureReason
from portal.models import FraudCase
from portal.services import fraud_case_update
from tests.security.helpers import INJECTION_STRINGS

from .test_controls import kiosk_session
from .test_permissions import db_contents

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", INJECTION_STRINGS)
def test_hostile_sign_in_and_code_input_writes_nothing(alice_portal, text):
    client = Client()
    before = db_contents()
    response = client.post("/my/sign-in/", {"phone": text, "password": text})
    assert response.status_code == 400
    assert db_contents() == before
    assert "<script>alert" not in response.content.decode()


@pytest.mark.parametrize("text", INJECTION_STRINGS)
def test_hostile_search_and_forms_when_signed_in(alice_portal, alice_client, text):
    account = alice_portal["account"]
    alice_client.get("/my/settings/authenticator/")  # a pending authenticator secret to confirm
    before = db_contents()
    for field in ("date_from", "date_to", "amount_min", "amount_max"):
        response = alice_client.get(f"/my/accounts/{account.pk}/", {field: text})
        assert response.status_code in (200, 400), field
    assert alice_client.post(
        f"/my/cards/{alice_portal['card'].pk}/unfreeze/", {"code": text}
    ).status_code in (400, 409)
    assert alice_client.post("/my/face/request/", {"what": text}).status_code == 400
    assert (
        alice_client.post("/my/settings/authenticator/", {"action": "confirm", "code": text}).status_code
        == 400
    )
    assert db_contents() == before


def test_hostile_activation_token_and_ids(db):
    client = Client()
    for token in ["x" * 500, "../../etc/passwd", "%00", "' OR 1=1 --"]:
        assert client.get(f"/my/activate/{token}/").status_code == 404
    assert client.get("/my/face/uses/not-a-uuid/not-me/").status_code == 404
    assert client.get("/my/data.xml").status_code == 404


def test_cross_site_posts_are_refused(alice_portal):
    from .conftest import sign_in

    client = Client(enforce_csrf_checks=True)
    page = client.get("/my/sign-in/")
    token = page.cookies["csrftoken"].value
    assert client.post("/my/sign-in/", {"phone": "+447700900101", "password": "x"}).status_code == 403
    assert (
        client.post(
            "/my/sign-in/", {"phone": "+447700900101", "password": "x", "csrfmiddlewaretoken": token}
        ).status_code
        == 302
    )
    card = alice_portal["card"]
    plain = Client()
    sign_in(plain, "+447700900101")
    plain_with_checks = Client(enforce_csrf_checks=True)
    plain_with_checks.cookies = plain.cookies
    assert plain_with_checks.post(f"/my/cards/{card.pk}/freeze/").status_code == 403
    card.refresh_from_db()
    assert card.status == "active"


def test_markup_in_a_fraud_note_is_escaped_for_staff(alice_portal, alice_client, administrator):
    session = kiosk_session(card=alice_portal["card"], outcome=FailureReason.NO_MATCH)
    alice_client.post(f"/my/face/uses/{session.public_id}/not-me/", {"note": "<img src=x onerror=alert(1)>"})
    case = FraudCase.objects.get()
    staff = Client()
    staff.force_login(administrator)
    page = staff.get(f"/admin/portal/fraudcase/{case.pk}/change/").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x" in page


def test_fraud_queue_closing_needs_a_resolution_and_is_audited(alice_portal, alice_client, auditor):
    from atmsite.errors import ApplicationError
    from audit.models import AuditEvent

    session = kiosk_session(card=alice_portal["card"], outcome=FailureReason.LIVENESS)
    alice_client.post(f"/my/face/uses/{session.public_id}/not-me/", {"note": ""})
    case = FraudCase.objects.get()
    with pytest.raises(ApplicationError):
        fraud_case_update(case=case, state="closed", actor=auditor, resolution="")
    staff = Client()
    staff.force_login(auditor)
    response = staff.post(
        f"/admin/portal/fraudcase/{case.pk}/change/",
        {"state": "closed", "resolution": "Customer's twin; card replaced"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "closed" and case.handled_by == auditor
    event = AuditEvent.objects.get(kind="portal.fraud_case_updated")
    assert event.actor_username == auditor.username and event.customer_id == alice_portal["customer"].pk


@pytest.mark.parametrize("number", ["0", "9223372036854775808", "99999999999999999999999999"])
def test_out_of_range_ids_are_404(alice_client, number):
    for path in (f"/my/accounts/{number}/", f"/my/cards/{number}/unfreeze/"):
        assert alice_client.get(path).status_code == 404, path
    assert alice_client.post(f"/my/cards/{number}/freeze/").status_code == 404
