"""Reads for change requests and what they imply elsewhere (the kiosk's one-time-code pause)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ChangeRequest, Customer


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
