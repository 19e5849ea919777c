"""Issue 23 item 1: notices to a customer are written in the customer's language, not the clicking staff
member's (accounts.notices)."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.approvals import services as approvals
from accounts.notices import notice_language, notice_render
from notifications.senders import TestSender
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("customer_language", "staff_language", "expected"),
    [("ru", "en", "номер телефона"), ("en", "ru", "phone number for your account")],
)
def test_phone_change_notice_is_in_the_customers_language(
    teller, administrator, django_capture_on_commit_callbacks, customer_language, staff_language, expected
):
    customer = CustomerFactory(
        full_name="Ivan Petrov", phone="+447700900001", preferred_language=customer_language
    )
    TestSender.outbox.clear()
    with translation.override(staff_language):
        change = approvals.phone_change_propose(customer=customer, phone="+447700900077", actor=teller)
        with django_capture_on_commit_callbacks(execute=True):
            approvals.change_request_approve(change_request=change, actor=administrator)
    # The old number is told of the change (the new one gets a notice of its own).
    [body] = [m.body for m in TestSender.outbox if m.phone == "+447700900001"]
    assert expected in body, body


def test_a_language_we_do_not_speak_falls_back_to_the_banks():
    customer = CustomerFactory.build(preferred_language="xx")
    assert notice_language(customer) == "en"
    with translation.override("ru"):
        assert notice_render(customer, lambda: translation.gettext("Yes")) == "Yes"
