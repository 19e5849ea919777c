"""List filters of the audit trail: free-text boxes (card, kiosk) and the face failure reason."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
)
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..models import AuditEvent


class InputFilter(admin.SimpleListFilter):
    """A free-text filter box (values are too many for a list of links)."""

    template = "admin/audit/input_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Iterable[tuple[str, str]]:
        return (("", ""),)  # one dummy choice, or the admin hides the filter

    def choices(self, changelist: Any) -> Iterator[Any]:
        keep = []
        for key, values in changelist.get_filters_params().items():
            if key == self.parameter_name:
                continue
            for value in values if isinstance(values, list) else [values]:
                keep.append((key, value))
        if changelist.query:
            keep.append(("q", changelist.query))
        yield {
            "query_parts": keep,
            "value": self.value() or "",
            "parameter_name": self.parameter_name,
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }

    def lookup(self, value: str) -> dict[str, Any] | None:
        """The filter for a typed value, or None when the value cannot match anything."""
        raise NotImplementedError

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        lookup = self.lookup(value)
        return queryset.none() if lookup is None else queryset.filter(**lookup)


class CardLast4Filter(InputFilter):
    title = pgettext_lazy("filter by", "card last 4 digits")
    parameter_name = "card_last4"

    def lookup(self, value: str) -> dict[str, Any] | None:
        return {"card_last4": value} if value.isdigit() and len(value) == 4 else None


class KioskIdFilter(InputFilter):
    """A kiosk by its name (any part, any case) or its id; every table here keeps the kiosk as `kiosk_id`."""

    title = pgettext_lazy("filter by", "kiosk (name or id)")
    parameter_name = "kiosk_id"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        from django.db.models import Q

        # audit sits below kiosk: its table is reached through the app registry, not an import.
        Kiosk = apps.get_model("kiosk", "Kiosk")
        value = (self.value() or "").strip()[:100]
        if not value:
            return queryset
        named = list(Kiosk.objects.filter(name__icontains=value).values_list("pk", flat=True))
        matches = Q(kiosk_id__in=named)
        if value.isdigit() and len(value) < 18:
            matches |= Q(kiosk_id=int(value))  # the trail keeps ids of kiosks since removed
        return queryset.filter(matches)


# Why a face check failed, as the kiosk session records it in the event's data["reason"].
FAILURE_REASONS: dict[str, Any] = {
    "mismatch": _("Another customer's face (mismatch)"),
    "several_faces": _("Several faces"),
    "no_match": _("No match"),
    "low_quality": _("Face not clear enough"),
    "timeout": _("Timed out"),
    "liveness": _("Liveness (possible photo or replay)"),
}


class FailureReasonFilter(admin.SimpleListFilter):
    title = pgettext_lazy("filter by", "failure reason")
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Iterable[tuple[str, Any]]:
        return list(FAILURE_REASONS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value not in FAILURE_REASONS:
            return queryset
        return queryset.filter(kind=AuditEvent.Kind.FACE_DECISION, data__reason=value)
