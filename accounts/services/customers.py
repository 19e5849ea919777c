"""Writes for customers: create, change details, activate, and the approved phone change."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record
from notifications.senders import OtpSendError, otp_sender_get

from ..models import Customer
from ..notices import Notice, customer_notice, notice_language
from ..phones import phone_mask


@transaction.atomic
def customer_create(
    *, full_name: str, phone: str, email: str = "", language: str = "", actor: Actor = None
) -> Customer:
    customer = Customer(full_name=full_name.strip(), phone=phone.strip(), email=email.strip())
    if language:
        customer.preferred_language = language
    customer.full_clean()
    customer.save()
    audit_event_record(
        kind=AuditEvent.Kind.CUSTOMER_CREATED,
        actor=actor,
        customer_id=customer.pk,
        personal={"full_name": customer.full_name, "phone": customer.phone},
    )
    return customer


@transaction.atomic
def customer_details_update(
    *,
    customer: Customer,
    actor: Actor,
    full_name: str | None = None,
    email: str | None = None,
    language: str | None = None,
) -> Customer:
    """Change what cannot hand the account to someone else (name, e-mail); old and new values are audited.
    The phone changes only through an approved change request (accounts.approvals)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    wanted = {"full_name": full_name, "email": email, "preferred_language": language}
    changes: dict[str, dict[str, str]] = {}
    for name, value in wanted.items():
        if value is None or value.strip() == getattr(customer, name):
            continue
        changes[name] = {"old": getattr(customer, name), "new": value.strip()}
        setattr(customer, name, value.strip())
    if not changes:
        return customer
    customer.full_clean()
    customer.save(update_fields=list(changes))
    audit_event_record(
        kind=AuditEvent.Kind.CUSTOMER_UPDATED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer.pk,
        data={"fields": sorted(changes)},
        # Names and e-mails are personal data: in the erasable column, not the chained facts.
        personal={"changes": changes},
    )
    return customer


@transaction.atomic
def customer_active_set(*, customer: Customer, is_active: bool, actor: Actor) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_active == is_active:
        return customer
    previous, customer.is_active = customer.is_active, is_active
    customer.save(update_fields=["is_active"])
    audit_event_record(
        kind=AuditEvent.Kind.CUSTOMER_UPDATED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer.pk,
        data={"fields": ["is_active"], "changes": {"is_active": {"old": previous, "new": is_active}}},
    )
    return customer


def phone_change_notice_body(*, new_phone: str, language: str | None = None) -> str:
    with translation.override(language or settings.LANGUAGE_CODE):
        return _phone_change_notice_text(new_phone)


def _phone_change_notice_text(new_phone: str) -> str:
    return gettext(
        "%(bank)s: the phone number for your account was changed to one ending in %(last4)s. "
        "If you did not ask for this, call the bank now."
    ) % {"bank": settings.BANK_NAME, "last4": new_phone[-4:]}


def _phone_change_notice_send(*, customer_id: int, old_phone: str, new_phone: str, language: str) -> None:
    try:
        body = phone_change_notice_body(new_phone=new_phone, language=language)
        otp_sender_get().send(phone=old_phone, body=body)
        outcome, data = AuditEvent.Outcome.SUCCESS, {"to": phone_mask(old_phone)}
    except OtpSendError as error:
        outcome, data = AuditEvent.Outcome.FAILURE, {"to": phone_mask(old_phone), "error": error.reason[:200]}
    with transaction.atomic():
        audit_event_record(
            kind=AuditEvent.Kind.PHONE_CHANGE_NOTICE, outcome=outcome, customer_id=customer_id, data=data
        )


@transaction.atomic
def customer_phone_change(*, customer: Customer, phone: str, actor: Actor) -> Customer:
    """Apply a phone change (called by an approved change request). One-time codes pause for
    OTP_DISABLED_AFTER_PHONE_CHANGE_H, and the old number is told once the change has committed."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    old_phone, customer.phone = customer.phone, phone.strip()
    customer.phone_changed_at = timezone.now()
    customer.full_clean()
    customer.save(update_fields=["phone", "phone_changed_at"])
    audit_event_record(
        kind=AuditEvent.Kind.CUSTOMER_UPDATED,
        outcome=AuditEvent.Outcome.SUCCESS,
        actor=actor,
        customer_id=customer.pk,
        data={
            "fields": ["phone"],
            "changes": {"phone": {"old": phone_mask(old_phone), "new": phone_mask(phone)}},
        },
    )
    customer_id, new_phone, language = customer.pk, customer.phone, notice_language(customer)
    # After commit: a rolled-back change must not tell anyone it happened. The old number first: it is the
    # customer's, whoever holds the new one.
    transaction.on_commit(
        lambda: _phone_change_notice_send(
            customer_id=customer_id, old_phone=old_phone, new_phone=new_phone, language=language
        )
    )
    customer_notice(customer=customer, notice=Notice.PHONE_NOW_YOURS, phone=new_phone)
    return customer
