"""Back-office notices that follow a member of staff to their next page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from accounts.approvals.rejections import rejections_announced, rejections_unannounced


class RejectionNoticeMiddleware:
    """A proposer whose change request was rejected is told so on their next admin or branch page, once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            request.method == "GET"
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith(("/admin/", "/branch/"))
        ):
            self._announce(request, user)
        return self.get_response(request)

    @staticmethod
    def _announce(request: HttpRequest, user: object) -> None:
        rejected = list(rejections_unannounced(user=user)[:5])
        for change in rejected:
            text = _(
                "Your request #%(pk)s (%(kind)s for %(customer)s) was rejected by %(who)s: %(reason)s"
            ) % {
                "pk": change.pk,
                "kind": change.get_kind_display(),
                "customer": change.customer,
                "who": change.decided_by.get_username() if change.decided_by else "—",
                "reason": change.reason or "—",
            }
            link = reverse("admin:accounts_changerequest_change", args=[change.pk])
            messages.warning(request, format_html('{} <a href="{}">{}</a>', text, link, _("Open")))
        if rejected:
            rejections_announced(user=user, change_ids=[change.pk for change in rejected])
