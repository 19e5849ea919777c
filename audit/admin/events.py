"""Back office for the audit trail: a read-only event list (the trail is changed by services only), CSV
export, and the snapshot review grid."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from atmsite.admin_mixins import ReadOnlyAdminMixin

from .. import selectors, services
from ..models import AuditEvent, AuditSnapshot
from .export import EXPORT, FACTS, csv_response
from .filters import FAILURE_REASONS, CardLast4Filter, FailureReasonFilter, KioskIdFilter
from .snapshots import VIEW_SNAPSHOT, SnapshotPagesMixin

EVENT_FIELDS = (*FACTS, "personal_display", "personal_digest", "personal_erased", "prev_hash", "hash")


@admin.register(AuditEvent)
class AuditEventAdmin(SnapshotPagesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    # Few, narrow columns: the list must fit 1366 px beside the navigation and the filters.
    list_display = [
        "seq",
        "time_display",
        "event_display",
        "reason_display",
        "customer_display",
        "kiosk_display",
        "actor_username",
        "snapshot_display",
    ]
    list_filter = ["kind", "outcome", FailureReasonFilter, KioskIdFilter, CardLast4Filter, "created_at"]
    search_fields = ["=card_last4", "actor_username"]
    date_hierarchy = None
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over a long trail on every page is wasted work
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS
    actions = ["export_selected"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str
    ) -> tuple[QuerySet[AuditEvent], bool]:
        """Also by customer name: the trail keeps only ids, so the name is matched in the customer table."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        customer_ids = selectors.customer_ids_by_name(search_term)
        if customer_ids:
            found = found | queryset.filter(customer_id__in=customer_ids)
        return found, duplicates

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        # audit sits below accounts and kiosk: their tables come from the app registry, not an import.
        Customer, Kiosk = apps.get_model("accounts", "Customer"), apps.get_model("kiosk", "Kiosk")
        # The trail stores ids only (it outlives rows and is chained); names are looked up for display.
        return (
            super()
            .get_queryset(request)
            .annotate(
                customer_name=Subquery(
                    Customer.objects.filter(pk=OuterRef("customer_id")).values("full_name")[:1]
                ),
                kiosk_name=Subquery(Kiosk.objects.filter(pk=OuterRef("kiosk_id")).values("name")[:1]),
            )
        )

    @admin.display(description=_("Time"), ordering="created_at")
    def time_display(self, obj: AuditEvent) -> str:
        return date_format(timezone.localtime(obj.created_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("Event"), ordering="kind")
    def event_display(self, obj: AuditEvent) -> str:
        return format_html(
            '{}<br><span class="outcome-{}">{}</span>',
            obj.get_kind_display(),
            obj.outcome,
            obj.get_outcome_display(),
        )

    @admin.display(description=_("Reason"))
    def reason_display(self, obj: AuditEvent) -> str:
        reason = (obj.data or {}).get("reason") if isinstance(obj.data, dict) else None
        if not reason or obj.outcome != AuditEvent.Outcome.FAILURE:
            return "—"
        return str(FAILURE_REASONS.get(reason, str(reason).replace("_", " ")))

    @admin.display(description=_("Customer / card"))
    def customer_display(self, obj: AuditEvent) -> str:
        name = getattr(obj, "customer_name", None) or (f"#{obj.customer_id}" if obj.customer_id else "—")
        if obj.card_last4:
            return format_html("{}<br>•••• {}", name, obj.card_last4)
        return name

    @admin.display(description=_("Kiosk"))
    def kiosk_display(self, obj: AuditEvent) -> str:
        if obj.kiosk_id is None:
            return "—"
        return getattr(obj, "kiosk_name", None) or f"#{obj.kiosk_id}"

    @admin.display(description=_("Snapshot"))
    def snapshot_display(self, obj: AuditEvent) -> str:
        thumbnail = getattr(obj, "snapshot_thumbnail", "")
        if not thumbnail:
            return ""
        return format_html(
            '<a href="{}"><img class="snapshot-thumb" src="{}" alt="{}"></a>',
            f"{reverse('admin:audit_auditevent_snapshots')}?event={obj.pk}",
            thumbnail,
            _("Snapshot of event #%(seq)s") % {"seq": obj.seq},
        )

    @admin.display(description=_("personal data"))
    def personal_display(self, obj: AuditEvent) -> str:
        if obj.personal_erased:
            return "(erased)"
        return json.dumps(obj.personal, ensure_ascii=False) if obj.personal else "-"

    # --- pages ---------------------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        # Before the defaults: "<path:object_id>/" would otherwise swallow these.
        return [
            path("export/", wrap(self.export_view), name=f"{info}_export"),
            path("snapshots/", wrap(self.snapshot_grid_view), name=f"{info}_snapshots"),
            path(
                "snapshots/<int:snapshot_id>/image/",
                wrap(self.snapshot_image_view),
                name=f"{info}_snapshot_image",
            ),
            path(
                "snapshots/<int:snapshot_id>/mark/",
                wrap(self.snapshot_mark_view),
                name=f"{info}_snapshot_mark",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied  # before the chain walk: it is not free
        extra_context = {
            **(extra_context or {}),
            "chain_status": selectors.chain_status_recent(),
            "can_export": request.user.has_perm(EXPORT),
            "can_view_snapshots": request.user.has_perm(VIEW_SNAPSHOT),
        }
        response = super().changelist_view(request, extra_context=extra_context)
        self._attach_thumbnails(request, response)
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        snapshots: list[AuditSnapshot] = []
        if request.user.has_perm(VIEW_SNAPSHOT) and str(object_id).isdigit():
            snapshots = list(AuditSnapshot.objects.filter(event_id=int(object_id)).order_by("pk"))
        extra_context = {**(extra_context or {}), "snapshots": snapshots}
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    # --- CSV export ----------------------------------------------------------------------------------------

    @admin.action(description=_("Export selected events as CSV"), permissions=["export"])
    def export_selected(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> StreamingHttpResponse:
        self._record_export(request, scope="selected")
        return csv_response(queryset.order_by("seq"))

    def export_view(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        """The changelist's current filters and search, as CSV."""
        if not request.user.has_perm(EXPORT):
            raise PermissionDenied
        try:
            events = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Unknown filter in the query string.")
        self._record_export(request, scope="filtered")
        return csv_response(events.order_by("seq"))

    def _record_export(self, request: HttpRequest, *, scope: str) -> None:
        filters = {key: request.GET.get(key, "")[:100] for key in list(request.GET)[:20]}
        services.audit_trail_exported(actor=request.user, scope=scope, filters=filters)
