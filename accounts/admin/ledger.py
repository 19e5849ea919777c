"""The ledger and the change requests waiting for a second member of staff; both read-only rows."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from atmsite.admin_mixins import ReadOnlyAdminMixin
from atmsite.errors import ApplicationError

from ..approvals import services as approvals
from ..approvals.display import change_request_reason, change_request_rows, change_request_summary
from ..approvals.selectors import change_request_full_values
from ..forms import ChangeRejectForm
from ..models import BankAccount, ChangeRequest, Transaction


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The ledger is read-only for everyone: rows are written by services only."""

    list_display = ["created_at", "account", "kind", "signed_amount", "balance_after", "card", "kiosk"]
    list_filter = ["kind", "kiosk", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["account__number", "account__customer__full_name", "card__last4", "idempotency_key"]
    list_select_related = ["account", "card", "kiosk"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Transaction | None = None) -> list[str]:
        return [field.name for field in Transaction._meta.fields]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        account_id = request.GET.get("account__id__exact", "")
        account = BankAccount.objects.filter(pk=int(account_id)).first() if account_id.isdigit() else None
        if account is not None:
            # Reached from the account page: say whose ledger this is.
            title = _("Ledger of %(account)s — %(customer)s") % {
                "account": account,
                "customer": account.customer,
            }
            extra_context = {**(extra_context or {}), "title": title}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("Amount"), ordering="amount")
    def signed_amount(self, obj: Transaction) -> str:
        # Stored positive (a constraint); shown signed so a clerk reads the direction at a glance.
        if obj.kind == Transaction.Kind.WITHDRAWAL:
            return format_html('<span class="amount-debit">−{}</span>', obj.amount)
        return format_html('<span class="amount-credit">+{}</span>', obj.amount)


TITLES = {
    "approved": _("Approve change request: %(kind)s for %(customer)s"),
    "rejected": _("Reject change request: %(kind)s for %(customer)s"),
    "cancelled": _("Cancel change request: %(kind)s for %(customer)s"),
}
# A request about no customer (a staff login's roles): the title names the kind only.
TITLES_NO_CUSTOMER = {
    "approved": _("Approve change request: %(kind)s"),
    "rejected": _("Reject change request: %(kind)s"),
    "cancelled": _("Cancel change request: %(kind)s"),
}
DONE = {
    "approved": _("Request #%(pk)s (%(kind)s) approved."),
    "rejected": _("Request #%(pk)s (%(kind)s) rejected."),
    "cancelled": _("Request #%(pk)s (%(kind)s) cancelled."),
}


def decision_allowed(change: ChangeRequest, user: Any, action: str) -> bool:
    """Whether this person may take this decision (the services check again; this only hides buttons)."""
    if change.state != ChangeRequest.State.PENDING:
        return False
    own = change.proposed_by_id == user.pk
    if action == "cancelled":
        return own
    return not own and user.has_perm(approvals.APPROVE_PERMISSION)


def decide_links(change: ChangeRequest, user: Any) -> str:
    links = [
        (action, label)
        for action, label in (
            ("approved", _("Approve")),
            ("rejected", _("Reject")),
            ("cancelled", _("Cancel")),
        )
        if decision_allowed(change, user, action)
    ]
    if not links:
        return "—"
    names = {"approved": "approve", "rejected": "reject", "cancelled": "cancel"}
    return format_html_join(
        " · ",
        '<a href="{}">{}</a>',
        (
            (reverse(f"admin:accounts_changerequest_{names[a]}", args=[change.pk]), label)
            for a, label in links
        ),
    )


class MineFilter(admin.SimpleListFilter):
    """ "My requests": what I proposed (the proposer follows up a rejection here)."""

    title = _("proposer")
    parameter_name = "mine"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("1", _("My requests"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(proposed_by=request.user) if self.value() == "1" else queryset


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Pending approvals: read-only rows; approve / reject / cancel on confirmation pages, via services.
    Requests come from the customer, account and card pages and from enrolment, never from "add"."""

    list_display = [
        "id",
        "kind",
        "customer",
        "summary_display",
        "state",
        "proposed_by",
        "proposed_at",
        "decide",
    ]
    list_filter = [MineFilter, "state", "kind"]
    search_fields = ["customer__full_name", "summary"]
    list_display_links = ["id"]
    list_select_related = ["customer", "proposed_by", "decided_by"]
    fields = readonly_fields = (
        "kind",
        "state",
        "customer",
        "summary_display",
        "reason_given",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "reason",
    )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if not request.GET:
            # Opening the list shows what waits for a decision.
            return HttpResponseRedirect(f"{request.path}?state__exact={ChangeRequest.State.PENDING}")
        if request.GET.get("state__exact") == ChangeRequest.State.PENDING:
            extra_context = {**(extra_context or {}), "title": _("Pending approvals")}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("What would change"))
    def summary_display(self, obj: ChangeRequest) -> str:
        return change_request_summary(obj)

    @admin.display(description=_("Reason given by the proposer"))
    def reason_given(self, obj: ChangeRequest) -> str:
        return change_request_reason(obj) or "—"

    @admin.display(description=_("Decide"))
    def decide(self, obj: ChangeRequest) -> str:
        return "—"  # replaced per request by get_list_display: the decisions this person may take

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        # The Decide column shows only what this person may do (no Approve for a teller or an auditor).
        def decide(obj: ChangeRequest) -> str:
            return decide_links(obj, request.user)

        decide.short_description = _("Decide")  # type: ignore[attr-defined]
        return [decide if name == "decide" else name for name in super().get_list_display(request)]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        change = ChangeRequest.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if change is not None:
            # Where a "decide or cancel that one first" refusal links: the decisions this person may take.
            extra_context = {**(extra_context or {}), "decide_links": decide_links(change, request.user)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", view(self.approve_view), name="accounts_changerequest_approve"),
            path("<int:pk>/reject/", view(self.reject_view), name="accounts_changerequest_reject"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="accounts_changerequest_cancel"),
            *super().get_urls(),
        ]

    def _decision_page(
        self, request: HttpRequest, pk: int, *, action: str, decide: Any, form: forms.Form | None = None
    ) -> HttpResponse:
        change = get_object_or_404(ChangeRequest.objects.select_related("customer", "proposed_by"), pk=pk)
        if not self.has_view_permission(request, change):
            return HttpResponse(status=403)
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                decide(change, form.cleaned_data if form is not None else {})
            except ApplicationError as error:
                self.message_user(
                    request,
                    _("Request #%(pk)s: %(error)s") % {"pk": change.pk, "error": _(error.message)},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    DONE[action] % {"pk": change.pk, "kind": change.get_kind_display()},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(reverse("admin:accounts_changerequest_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": (
                TITLES[action] % {"kind": change.get_kind_display(), "customer": change.customer}
                if change.customer_id
                else TITLES_NO_CUSTOMER[action] % {"kind": change.get_kind_display()}
            ),
            "summary": change_request_summary(change),
            "rows": change_request_rows(change),
            "reason": change_request_reason(change),
            "opts": self.model._meta,
            "change": change,
            # The approver's view only (audited): the numbers in full, so a familiar one can be recognised.
            "full_values": (
                change_request_full_values(change=change, actor=request.user) if action == "approved" else {}
            ),
            "action": action,
            "form": form,
            "allowed": decision_allowed(change, request.user, action),
        }
        return TemplateResponse(request, "admin/accounts/changerequest/decide.html", context)

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._decision_page(
            request,
            pk,
            action="approved",
            decide=lambda change, data: approvals.change_request_approve(
                change_request=change, actor=request.user
            ),
        )

    def reject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._decision_page(
            request,
            pk,
            action="rejected",
            form=ChangeRejectForm(request.POST or None),
            decide=lambda change, data: approvals.change_request_reject(
                change_request=change, actor=request.user, reason=data["reason"]
            ),
        )

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._decision_page(
            request,
            pk,
            action="cancelled",
            decide=lambda change, data: approvals.change_request_cancel(
                change_request=change, actor=request.user
            ),
        )
