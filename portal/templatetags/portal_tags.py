"""Template filters of the portal's readable data page."""

from __future__ import annotations

from django import template
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def isodate(value: object) -> str:
    """An ISO date-time from the data export, shown in the reader's language and time zone."""
    if not isinstance(value, str) or not value:
        return "—"
    moment = parse_datetime(value)
    if moment is None:
        return value
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
