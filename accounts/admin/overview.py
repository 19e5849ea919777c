"""Customer 360: one read-only page with everything about a customer, each line linking to its detail."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from ..models import Customer
from ..overview import VIEW_SNAPSHOT, customer_overview


def _snapshot_thumbnails(request: HttpRequest, snapshots: list[Any]) -> list[tuple[Any, str]]:
    """(snapshot, data URI) for the snapshots that decrypt; the page of faces is one audited view."""
    from atmsite.crypto import encrypted_file_read
    from audit.services import snapshots_thumbnails_viewed
    from audit.thumbnails import data_uri, thumbnail_jpeg

    if not request.user.has_perm(VIEW_SNAPSHOT):
        return []
    shown = []
    for snapshot in snapshots:
        try:
            jpeg = thumbnail_jpeg(encrypted_file_read(snapshot.storage_name), size=(96, 72))
        except (FileNotFoundError, InvalidToken):
            jpeg = None
        shown.append((snapshot, data_uri(jpeg) if jpeg else ""))
    snapshots_thumbnails_viewed(snapshots=[s for s, uri in shown if uri], actor=request.user)
    return shown


def customer_overview_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> TemplateResponse:
    # Staff only (admin_view) and the customer view permission: a teller sees it, a kiosk or customer never.
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    customer = get_object_or_404(Customer, pk=pk)
    overview = customer_overview(customer=customer, user=request.user)
    perms = request.user.has_perm
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Customer 360: %(name)s") % {"name": customer.full_name},
        "original": customer,
        "o": overview,
        "thumbnails": _snapshot_thumbnails(request, overview.snapshots),
        "can_view_snapshots": perms(VIEW_SNAPSHOT),
        "can_view_sessions": perms("kiosk.view_kiosksession"),
        "can_view_cardless": perms("kiosk.view_cardlessaccess"),
        "can_view_enrolments": perms("biometrics.view_enrolment"),
        "can_view_transactions": perms("accounts.view_transaction"),
    }
    return TemplateResponse(request, "admin/accounts/customer/overview.html", context)
