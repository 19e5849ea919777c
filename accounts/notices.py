"""Notices to the customer whenever how they are recognised or paid changes (issue 20, item 2).

Enrolment and re-enrolment of the face, card-less cash on and off, a card-less PIN set, a phone change (to the
old number and to the new one), a card added to the account: each tells the customer on the channel on file
(WhatsApp through notifications.senders; console in development, an outbox in tests), in the customer's own
language. A notice names what changed, never a code, a PIN or a card number (at most its last four digits).

Sent once the change has committed (a rolled-back change tells nobody), and each send is audited with the
number masked; a failed send is audited, never raised: the change itself stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from audit.models import AuditEvent
from audit.services import audit_event_record
from notifications.senders import OtpSendError, otp_sender_get

from .models import Customer
from .phones import phone_mask


class Notice(StrEnum):
    FACE_ENROLLED = "face_enrolled"
    FACE_REPLACED = "face_replaced"
    CARDLESS_ON = "cardless_on"
    CARDLESS_OFF = "cardless_off"
    CARDLESS_PIN_SET = "cardless_pin_set"
    PHONE_NOW_YOURS = "phone_now_yours"
    CARD_ADDED = "card_added"


# Marked for translation here, translated in the customer's language when sent.
_BODIES: dict[Notice, str] = {
    Notice.FACE_ENROLLED: gettext_noop(
        "%(bank)s: face verification at our ATMs was turned on for your account. "
        "If you did not ask for this, call the bank now."
    ),
    Notice.FACE_REPLACED: gettext_noop(
        "%(bank)s: the face that verifies you at our ATMs was replaced. "
        "If you did not ask for this, call the bank now."
    ),
    Notice.CARDLESS_ON: gettext_noop(
        "%(bank)s: card-less cash (phone number, face and PIN) was turned on for your account. "
        "If you did not ask for this, call the bank now."
    ),
    Notice.CARDLESS_OFF: gettext_noop("%(bank)s: card-less cash was turned off for your account."),
    Notice.CARDLESS_PIN_SET: gettext_noop(
        "%(bank)s: a new card-less cash PIN was set for your account. "
        "If you did not set it, call the bank now."
    ),
    Notice.PHONE_NOW_YOURS: gettext_noop(
        "%(bank)s: this number is now the phone number of your account. "
        "If you did not ask for this, call the bank now."
    ),
    Notice.CARD_ADDED: gettext_noop(
        "%(bank)s: a card ending in %(last4)s was added to your account. "
        "If you did not ask for this, call the bank now."
    ),
}


def notice_language(customer: Customer) -> str:
    """The customer's language if it is one we speak, else the bank's own."""
    language = customer.preferred_language or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@contextmanager
def customer_language(customer: Customer) -> Iterator[str]:
    """Render inside this to write in the customer's language, not the clicking staff member's."""
    language = notice_language(customer)
    with translation.override(language):
        yield language


def notice_render(customer: Customer, render: Callable[[], str]) -> str:
    """`render()` (which calls gettext) evaluated in the customer's language."""
    with customer_language(customer):
        return str(render())


def notice_body(*, notice: Notice, language: str, **params: str) -> str:
    with translation.override(language):
        return gettext(_BODIES[notice]) % {"bank": settings.BANK_NAME, **params}


def customer_notice(*, customer: Customer, notice: Notice, phone: str | None = None, **params: str) -> None:
    """Queue a notice to the customer (to `phone`, else the number on file) for after the commit."""
    to, language, customer_id = phone or customer.phone, notice_language(customer), customer.pk
    transaction.on_commit(
        lambda: _notice_send(customer_id=customer_id, to=to, notice=notice, language=language, params=params)
    )


def _notice_send(*, customer_id: int, to: str, notice: Notice, language: str, params: dict[str, str]) -> None:
    data: dict[str, str] = {"notice": str(notice), "to": phone_mask(to), "language": language}
    try:
        otp_sender_get().send(phone=to, body=notice_body(notice=notice, language=language, **params))
        outcome = AuditEvent.Outcome.SUCCESS
    except OtpSendError as error:
        outcome, data["error"] = AuditEvent.Outcome.FAILURE, error.reason[:200]
    with transaction.atomic():
        audit_event_record(
            kind=AuditEvent.Kind.CUSTOMER_NOTICE, outcome=outcome, customer_id=customer_id, data=data
        )
