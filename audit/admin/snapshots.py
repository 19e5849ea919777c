"""The failed-attempt snapshot pages of the audit admin: the review grid, the image, the mark.

Snapshot URLs take a snapshot id and check the permission before any lookup, so a guessed URL tells a
person without audit.view_snapshot nothing, not even whether the snapshot exists.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from atmsite.crypto import encrypted_file_read

from .. import selectors, services
from ..errors import AuditError
from ..models import AuditEvent, AuditSnapshot
from ..thumbnails import data_uri, thumbnail_jpeg
from .filters import FAILURE_REASONS

VIEW_SNAPSHOT = "audit.view_snapshot"
MARK_SNAPSHOT = "audit.mark_snapshot"
GRID_PAGE_SIZE = 24
ALL = "all"
STATUS_LABELS: dict[str, Any] = {
    AuditSnapshot.Status.NEW: pgettext_lazy("snapshot status", "New"),
    AuditSnapshot.Status.REVIEWED: pgettext_lazy("snapshot status", "Reviewed"),
    AuditSnapshot.Status.FRAUD_SUSPECTED: pgettext_lazy("snapshot status", "Fraud suspected"),
}


# The grid's filter names the groups (in Russian a plural), the card names one snapshot's status.
FILTER_LABELS: dict[str, Any] = {
    AuditSnapshot.Status.NEW: pgettext_lazy("snapshot filter", "New"),
    AuditSnapshot.Status.REVIEWED: pgettext_lazy("snapshot filter", "Reviewed"),
    AuditSnapshot.Status.FRAUD_SUSPECTED: pgettext_lazy("snapshot filter", "Fraud suspected"),
}


def _grid_status(request: HttpRequest, event_id: int | None) -> str:
    """The grid opens on the snapshots nobody has reviewed; "all" shows every status. A link to one event's
    snapshot (from the list's thumbnail) shows it whatever its status."""
    status = request.GET.get("status", "")
    if status == ALL or (not status and event_id is not None):
        return ALL
    return status if status in AuditSnapshot.Status.values else AuditSnapshot.Status.NEW


def _names_for(events: list[AuditEvent]) -> dict[str, dict[int | None, str]]:
    # audit sits below accounts and kiosk: their tables are reached through the app registry, not an import.
    Customer, Kiosk = apps.get_model("accounts", "Customer"), apps.get_model("kiosk", "Kiosk")
    customer_ids = {event.customer_id for event in events if event.customer_id}
    kiosk_ids = {event.kiosk_id for event in events if event.kiosk_id}
    return {
        "customers": dict(Customer.objects.filter(pk__in=customer_ids).values_list("pk", "full_name")),
        "kiosks": dict(Kiosk.objects.filter(pk__in=kiosk_ids).values_list("pk", "name")),
    }


class SnapshotPagesMixin:
    """The snapshot pages and the list's thumbnails, for AuditEventAdmin."""

    admin_site: admin.AdminSite
    opts: Any

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
        event_raw = request.GET.get("event", "")
        event_id = int(event_raw) if event_raw.isdigit() else None
        status = _grid_status(request, event_id)
        paginator = Paginator(
            selectors.snapshots_for_review(status="" if status == ALL else status, event_id=event_id),
            GRID_PAGE_SIZE,
        )
        page = paginator.get_page(request.GET.get("page"))
        items = []
        names = _names_for([snapshot.event for snapshot in page.object_list])
        marks = selectors.snapshot_marks(snapshot_ids=[snapshot.pk for snapshot in page.object_list])
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
                    "status_label": STATUS_LABELS.get(snapshot.status, snapshot.status),
                    "marks": [
                        {"mark": mark, "label": STATUS_LABELS.get(mark.status, mark.status)}
                        for mark in marks.get(snapshot.pk, [])
                    ],
                }
            )
        services.snapshots_thumbnails_viewed(snapshots=list(page.object_list), actor=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Failed-attempt snapshots"),
            "items": items,
            "page": page,
            "status": status,
            "event_id": event_id,
            "statuses": [*FILTER_LABELS.items(), (ALL, pgettext("snapshot filter", "All"))],
            "can_mark": request.user.has_perm(MARK_SNAPSHOT),
            "mark_choices": [
                (AuditSnapshot.Status.REVIEWED, _("Mark reviewed")),
                (AuditSnapshot.Status.FRAUD_SUSPECTED, _("Mark fraud suspected")),
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
            if error.code != AuditError.NOTE_REQUIRED:
                return HttpResponseBadRequest(error.messages[0])
            # A form message on the page the reviewer came from; nothing was written.
            messages.error(request, error.messages[0])
            return HttpResponseRedirect(self._next_url(request))
        marked = AuditSnapshot.objects.get(pk=snapshot.pk)
        messages.success(
            request,
            _("Snapshot %(id)s marked “%(status)s”: %(note)s")
            % {"id": marked.pk, "status": STATUS_LABELS.get(marked.status, ""), "note": marked.review_note},
        )
        return HttpResponseRedirect(self._next_url(request))

    def _next_url(self, request: HttpRequest) -> str:
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:audit_auditevent_snapshots")
        return next_url
