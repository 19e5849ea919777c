"""Issue 20, item 2: every change to how a customer is recognised or paid tells the customer, in their
language.

Found: a customer whose account was given a stranger's face, card-less cash and a PIN got no message at all.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.approvals.services import card_issue_propose, change_request_approve, phone_change_propose
from accounts.models import ChangeRequest
from accounts.roles import SUPERVISOR
from audit.models import AuditEvent
from kiosk.approvals import cardless_opt_in_propose
from kiosk.services import cardless
from notifications.senders import TestSender
from tests.biometrics.test_enrolment_support import fresh_gallery  # noqa: F401
from tests.factories import BankAccountFactory, CustomerFactory, UserFactory, make_pan
from tests.support.faces import encoded_enrolment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_gallery")]

PIN = "4821"
OLD_PHONE, NEW_PHONE = "+447700900031", "+447700966631"


@pytest.fixture
def outbox():
    TestSender.outbox.clear()
    yield TestSender.outbox
    TestSender.outbox.clear()


@pytest.fixture
def supervisor(roles) -> object:
    user = UserFactory(username="sam_supervisor")
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    return user


def _approve(change: ChangeRequest, actor, capture) -> None:
    with capture(execute=True):
        change_request_approve(change_request=change, actor=actor)


def test_each_change_to_recognition_or_payment_notifies_the_customer_in_their_language(
    teller, supervisor, outbox, django_capture_on_commit_callbacks
) -> None:
    from biometrics.services import enrolment_encoding

    capture = django_capture_on_commit_callbacks
    customer = CustomerFactory(phone=OLD_PHONE, preferred_language="ru")
    account = BankAccountFactory(customer=customer)
    pan = make_pan(3131)

    enrolment_encoding._enrolment_finish(enrolment_id=encoded_enrolment(customer, teller).pk)
    _approve(ChangeRequest.objects.get(kind=ChangeRequest.Kind.FACE_ENROL), supervisor, capture)
    enrolment_encoding._enrolment_finish(enrolment_id=encoded_enrolment(customer, teller).pk)
    _approve(ChangeRequest.objects.get(kind=ChangeRequest.Kind.FACE_REENROL), supervisor, capture)
    change = cardless_opt_in_propose(
        customer=customer, account=account, consent=True, actor=teller, reason="x"
    )
    _approve(change, supervisor, capture)
    with capture(execute=True):
        access = cardless.cardless_pin_set(access=customer.cardless, pin=PIN, pin_repeat=PIN, actor=teller)
        cardless.cardless_opt_out(access=access, actor=teller)
    expires = timezone.localdate() + dt.timedelta(days=800)
    change = card_issue_propose(customer=customer, account=account, pan=pan, expires_on=expires, actor=teller)
    _approve(change, supervisor, capture)
    _approve(
        phone_change_propose(customer=customer, phone=NEW_PHONE, actor=teller, reason="x"),
        supervisor,
        capture,
    )

    assert len(outbox) == 8, [m.body for m in outbox]
    assert [m.phone for m in outbox] == [OLD_PHONE] * 6 + [OLD_PHONE, NEW_PHONE]
    for message in outbox:
        assert any("а" <= ch <= "я" for ch in message.body.lower()), message.body  # Russian, as chosen
        assert PIN not in message.body and pan not in message.body
    assert pan[-4:] in outbox[5].body  # the card's last four digits only
    notices = AuditEvent.objects.filter(kind=AuditEvent.Kind.CUSTOMER_NOTICE, customer_id=customer.pk)
    assert notices.count() == 7 and all(NEW_PHONE not in str(e.data) for e in notices)


def test_a_customer_without_a_language_gets_the_banks_own(
    outbox, django_capture_on_commit_callbacks, settings
):
    customer = CustomerFactory(phone=OLD_PHONE)
    assert customer.preferred_language == settings.LANGUAGE_CODE
    account = BankAccountFactory(customer=customer)
    from accounts.notices import Notice, customer_notice

    with django_capture_on_commit_callbacks(execute=True):
        customer_notice(customer=customer, notice=Notice.CARDLESS_OFF)
    assert outbox[0].body.startswith(settings.BANK_NAME) and "card-less cash was turned off" in outbox[0].body
    assert account
