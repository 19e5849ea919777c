"""Back office for the audit trail: a read-only event list, CSV export, and the snapshot review grid.

Snapshot URLs take a snapshot id and check the permission before any lookup, so a guessed URL tells a
person without audit.view_snapshot nothing, not even whether the snapshot exists.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from cryptography.fernet import InvalidToken
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from atmsite.crypto import encrypted_file_read

from . import selectors, services
from .chain import CHAINED_FIELDS
from .models import AuditEvent, AuditSnapshot
from .thumbnails import data_uri, thumbnail_jpeg

VIEW_SNAPSHOT = "audit.view_snapshot"
MARK_SNAPSHOT = "audit.mark_snapshot"
EXPORT = "audit.export_auditevent"
GRID_PAGE_SIZE = 24
# The chained facts of an event (audit.chain.CHAINED_FIELDS) followed by what the chain does not cover.
_FACTS = tuple(name for name in CHAINED_FIELDS if name != "personal_digest")
CSV_COLUMNS = [*_FACTS, "personal", "personal_erased", "prev_hash", "hash"]
EVENT_FIELDS = (*_FACTS, "personal_display", "personal_digest", "personal_erased", "prev_hash", "hash")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_rows(events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    yield CSV_COLUMNS
    for event in events.values(*CSV_COLUMNS).iterator(chunk_size=2000):
        if event["personal_erased"]:
            event["personal"] = {}  # never export what erasure removed, whatever the column holds
        event["created_at"] = event["created_at"].isoformat()
        yield [csv_cell(event[column]) for column in CSV_COLUMNS]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(events: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    # Streamed row by row from a server-side cursor: the whole trail never sits in memory.
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in csv_rows(events)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store, private"
    return response


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


class CardLast4Filter(InputFilter):
    title = pgettext_lazy("filter by", "card last 4 digits")
    parameter_name = "card_last4"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if not (value.isdigit() and len(value) == 4):
            return queryset.none()
        return queryset.filter(card_last4=value)


class KioskIdFilter(InputFilter):
    title = pgettext_lazy("filter by", "kiosk id")
    parameter_name = "kiosk_id"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(kiosk_id=int(value))


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


def _names_for(events: list[AuditEvent]) -> dict[str, dict[int | None, str]]:
    from accounts.models import Customer
    from kiosk.models import Kiosk

    customer_ids = {event.customer_id for event in events if event.customer_id}
    kiosk_ids = {event.kiosk_id for event in events if event.kiosk_id}
    return {
        "customers": dict(Customer.objects.filter(pk__in=customer_ids).values_list("pk", "full_name")),
        "kiosks": dict(Kiosk.objects.filter(pk__in=kiosk_ids).values_list("pk", "name")),
    }


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
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

    # --- read-only: the trail is changed by services only -------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        from accounts.models import Customer
        from kiosk.models import Kiosk

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

    def _attach_thumbnails(self, request: HttpRequest, response: Any) -> None:
        """Small thumbnails of this page's failure snapshots, decrypted in memory, for snapshot viewers only;
        the page of thumbnails is one SNAPSHOT_VIEWED event, like the review grid."""
        if not request.user.has_perm(VIEW_SNAPSHOT):
            return
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is None:
            return
        events = list(changelist.result_list)  # evaluates the page once; the template reuses these rows
        snapshots = {
            snapshot.event_id: snapshot
            for snapshot in AuditSnapshot.objects.filter(
                event_id__in=[event.pk for event in events], purged_at__isnull=True
            ).order_by("pk")
        }
        shown = []
        for event in events:
            snapshot = snapshots.get(event.pk)
            if snapshot is None:
                continue
            try:
                jpeg = thumbnail_jpeg(encrypted_file_read(snapshot.storage_name), size=(96, 72))
            except (FileNotFoundError, InvalidToken):
                jpeg = None
            if jpeg:
                event.snapshot_thumbnail = data_uri(jpeg)
                shown.append(snapshot)
        services.snapshots_thumbnails_viewed(snapshots=shown, actor=request.user)

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

    # --- snapshots -----------------------------------------------------------------------------------------

    def _snapshot_or_404(self, request: HttpRequest, snapshot_id: int, perm: str) -> AuditSnapshot:
        # Permission first: without it, every id (existing or not) answers the same 403.
        if not request.user.has_perm(perm):
            raise PermissionDenied
        return get_object_or_404(AuditSnapshot.objects.select_related("event"), pk=snapshot_id)

    def snapshot_image_view(self, request: HttpRequest, snapshot_id: int) -> HttpResponse:
        snapshot = self._snapshot_or_404(request, snapshot_id, VIEW_SNAPSHOT)
        try:
            image = services.snapshot_view(snapshot=snapshot, actor=request.user)
        except ValidationError:
            return HttpResponse("This snapshot was purged.", status=410, content_type="text/plain")
        except FileNotFoundError:
            raise Http404("The snapshot file is missing.") from None
        except InvalidToken:
            return HttpResponse(
                "The snapshot cannot be decrypted with the configured keys.",
                status=409,
                content_type="text/plain",
            )
        response = HttpResponse(image, content_type="image/jpeg")
        response["Cache-Control"] = "no-store, private"
        response["Content-Disposition"] = f'inline; filename="snapshot-{snapshot.pk}.jpg"'
        return response

    def snapshot_grid_view(self, request: HttpRequest) -> TemplateResponse:
        if not request.user.has_perm(VIEW_SNAPSHOT):
            raise PermissionDenied
        status = request.GET.get("status", "")
        if status not in AuditSnapshot.Status.values:
            status = ""
        event_raw = request.GET.get("event", "")
        event_id = int(event_raw) if event_raw.isdigit() else None
        paginator = Paginator(
            selectors.snapshots_for_review(status=status, event_id=event_id), GRID_PAGE_SIZE
        )
        page = paginator.get_page(request.GET.get("page"))
        items = []
        names = _names_for([snapshot.event for snapshot in page.object_list])
        for snapshot in page.object_list:
            try:
                thumbnail = thumbnail_jpeg(encrypted_file_read(snapshot.storage_name))
            except (FileNotFoundError, InvalidToken):
                thumbnail = None
            event = snapshot.event
            reason = event.data.get("reason") if isinstance(event.data, dict) else None
            items.append(
                {
                    "snapshot": snapshot,
                    "thumbnail": data_uri(thumbnail) if thumbnail else "",
                    "reason": FAILURE_REASONS.get(str(reason), str(reason or "")),
                    "customer": names["customers"].get(event.customer_id, ""),
                    "kiosk": names["kiosks"].get(event.kiosk_id, ""),
                }
            )
        services.snapshots_thumbnails_viewed(snapshots=list(page.object_list), actor=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Failed-attempt snapshots",
            "items": items,
            "page": page,
            "status": status,
            "event_id": event_id,
            "statuses": AuditSnapshot.Status.choices,
            "can_mark": request.user.has_perm(MARK_SNAPSHOT),
            "mark_choices": [
                (AuditSnapshot.Status.REVIEWED, "Reviewed"),
                (AuditSnapshot.Status.FRAUD_SUSPECTED, "Fraud suspected"),
            ],
        }
        response = TemplateResponse(request, "admin/audit/auditevent/snapshot_grid.html", context)
        response["Cache-Control"] = "no-store, private"
        return response

    def snapshot_mark_view(self, request: HttpRequest, snapshot_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        snapshot = self._snapshot_or_404(request, snapshot_id, MARK_SNAPSHOT)
        try:
            services.snapshot_mark(
                snapshot=snapshot,
                status=request.POST.get("status", ""),
                actor=request.user,
                note=request.POST.get("note", ""),
            )
        except ValidationError as error:
            return HttpResponseBadRequest(error.messages[0])
        messages.success(request, f"Snapshot {snapshot.pk} marked.")
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:audit_auditevent_snapshots")
        return HttpResponseRedirect(next_url)
