"""Issue 20, item 2: no lone insider can give an account to someone else.

Found (a): for a customer with no active face, one teller recorded consent, enrolled an accomplice's face
(active with no review), opted the customer in to card-less cash and set the PIN. Found (b): after wrong PINs
disabled card-less cash, one teller did opt-out, opt-in, new PIN. Each step that gives an account a face or a
card-less PIN now waits for a second member of staff.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.approvals.services import change_request_approve
from accounts.models import ChangeRequest
from accounts.roles import SUPERVISOR
from atmsite.errors import ApplicationError
from biometrics.models import Enrolment, FaceTemplate
from kiosk.approvals import cardless_opt_in_propose, cardless_reset_propose
from kiosk.models import CardlessAccess
from kiosk.services import cardless
from tests.biometrics.test_enrolment_support import fresh_gallery  # noqa: F401
from tests.factories import BankAccountFactory, CustomerFactory, UserFactory
from tests.support.faces import active_templates, encoded_enrolment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_gallery")]

PIN = "4821"


@pytest.fixture
def supervisor(roles) -> object:
    user = UserFactory(username="sam_supervisor")
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    return user


def _gallery_ids(customer) -> set[int]:
    return set(
        FaceTemplate.objects.filter(
            customer=customer, revoked_at__isnull=True, gallery_added_version__isnull=False
        ).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("history", ["never_enrolled", "revoked"])
def test_first_enrolment_of_a_customer_without_an_active_face_waits_for_a_second_person(
    teller, supervisor, history
) -> None:
    from biometrics.services import enrolment_encoding
    from biometrics.services.templates import biometrics_revoke

    customer = CustomerFactory()
    if history == "revoked":
        active_templates(customer, 2)
        biometrics_revoke(customer=customer, actor=supervisor, reason="lost consent")
    enrolment = encoded_enrolment(customer, teller)
    finished = enrolment_encoding._enrolment_finish(enrolment_id=enrolment.pk)
    assert finished.status == Enrolment.Status.NEEDS_REVIEW
    assert _gallery_ids(customer) == set()  # the accomplice's face opens nothing yet
    change = ChangeRequest.objects.get(customer=customer, state=ChangeRequest.State.PENDING)
    assert change.kind == ChangeRequest.Kind.FACE_ENROL and change.proposed_by == teller
    with pytest.raises(ApplicationError):
        change_request_approve(change_request=change, actor=teller)
    change_request_approve(change_request=change, actor=supervisor)
    assert len(_gallery_ids(customer)) == 2


def _enrolled(customer=None):
    customer = customer or CustomerFactory(full_name="Carol Cardless", phone="+447700900001")
    active_templates(customer, 2)
    return customer, BankAccountFactory(customer=customer)


def test_one_teller_cannot_opt_a_customer_in_to_cardless_alone(client, teller, supervisor) -> None:
    customer, account = _enrolled()
    client.force_login(teller)
    url = reverse("branch:cardless", args=[customer.pk])
    answer = client.post(
        url, {"action": "opt_in", "account": account.pk, "consent": "on", "reason": "asked at the desk"}
    )
    assert answer.status_code == 302
    assert not CardlessAccess.objects.filter(customer=customer).exists()
    # The PIN pad is closed until a second person approves.
    pad = client.post(reverse("branch:cardless-pin", args=[customer.pk]), {"pin": PIN, "pin_repeat": PIN})
    assert pad.status_code == 302 and not CardlessAccess.objects.filter(customer=customer).exists()
    change = ChangeRequest.objects.get(kind=ChangeRequest.Kind.CARDLESS_OPT_IN, customer=customer)
    assert change.proposal_reason == "asked at the desk"
    page = client.get(url).content.decode()
    assert f"request #{change.pk}" in page and 'id="cardless-opt-in"' not in page
    change_request_approve(change_request=change, actor=supervisor)
    access = CardlessAccess.objects.get(customer=customer)
    assert access.status == CardlessAccess.Status.PIN_PENDING and access.consent_by == teller


def test_cardless_opt_in_proposal_needs_a_reason(teller) -> None:
    customer, account = _enrolled()
    with pytest.raises(ApplicationError) as refused:
        cardless_opt_in_propose(customer=customer, account=account, consent=True, actor=teller, reason=" ")
    assert refused.value.code == "reason_required"
    assert not ChangeRequest.objects.exists()


def test_opt_out_then_opt_in_cannot_bypass_the_reset_after_wrong_pins(
    teller, supervisor, monkeypatch
) -> None:
    from django.utils import timezone

    import kiosk.services.cardless_pin as cardless_pin

    customer, account = _enrolled()
    access = cardless.cardless_opt_in(customer=customer, account=account, consent=True, actor=supervisor)
    access = cardless.cardless_pin_set(access=access, pin=PIN, pin_repeat=PIN, actor=teller)
    session = type("S", (), {"kiosk_id": None, "public_id": "x", "pk": None})()
    access.consecutive_pin_failures = 2
    access.save()
    # The third wrong PIN, as the kiosk records it (the session's own audit and notice are not the point).
    monkeypatch.setattr(cardless_pin, "session_audit", lambda *a, **k: None)
    monkeypatch.setattr(cardless_pin, "_pin_disabled_notice", lambda *a, **k: None)
    cardless_pin._pin_failure_record(session, [access], now=timezone.now())
    access.refresh_from_db()
    assert access.status == CardlessAccess.Status.DISABLED
    cardless.cardless_opt_out(access=access, actor=teller)
    with pytest.raises(ApplicationError) as refused:
        cardless_opt_in_propose(
            customer=customer, account=account, consent=True, actor=teller, reason="again"
        )
    assert refused.value.code == "cardless_reset_required"
    with pytest.raises(ApplicationError):
        cardless.cardless_opt_in(customer=customer, account=account, consent=True, actor=teller)
    reset = cardless_reset_propose(customer=customer, actor=teller, reason="customer forgot the PIN")
    change_request_approve(change_request=reset, actor=supervisor)
    access.refresh_from_db()
    assert access.status == CardlessAccess.Status.REVOKED and not access.pin_reset_required
    change = cardless_opt_in_propose(
        customer=customer, account=account, consent=True, actor=teller, reason="x"
    )
    change_request_approve(change_request=change, actor=supervisor)
    access.refresh_from_db()
    assert access.status == CardlessAccess.Status.PIN_PENDING
