"""Reads for change requests and what they imply elsewhere (the kiosk's one-time-code pause)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ChangeRequest, Customer
from atmsite.errors import ApplicationError


def change_requests_pending() -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.filter(state=ChangeRequest.State.PENDING).select_related(
        "customer", "proposed_by"
    )


def customer_phone_recently_changed(*, customer: Customer, now: dt.datetime | None = None) -> bool:
    """True while one-time codes stay off after a phone change (OTP_DISABLED_AFTER_PHONE_CHANGE_H): a code
    sent to a number an insider just put on the account would hand them the account."""
    if customer.phone_changed_at is None:
        return False
    pause = dt.timedelta(hours=settings.OTP_DISABLED_AFTER_PHONE_CHANGE_H)
    return (now or timezone.now()) < customer.phone_changed_at + pause


def otp_phone_change_check(*, customer: Customer, now: dt.datetime) -> None:
    """Called by the kiosk before it sends a one-time code: refuse while the phone change is recent."""
    if customer_phone_recently_changed(customer=customer, now=now):
        raise ApplicationError(
            _("No code can be sent for this card right now. Please contact your bank."),
            code="otp_paused_after_phone_change",
            status_code=403,
        )
