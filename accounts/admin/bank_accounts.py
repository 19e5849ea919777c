"""Bank accounts: opened and changed through the services; a limit increase becomes a proposal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from atmsite.admin_mixins import NoDeleteAdminMixin

from .. import services
from ..approvals import services as approvals
from ..forms import BankAccountForm
from ..models import BankAccount
from .common import (
    ProposalAwareMixin,
    drop_from_change_message,
    propose_and_report,
)


def limit_request_allowed(user: Any) -> bool:
    return user.has_perm("accounts.view_bankaccount") and (
        user.has_perm("accounts.add_bankaccount") or user.has_perm("accounts.change_bankaccount")
    )


class LimitRequestForm(forms.Form):
    limit = forms.DecimalField(
        label=_("New daily withdrawal limit"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("A higher limit waits for a second member of staff; a lower one applies at once."),
    )


@admin.register(BankAccount)
class BankAccountAdmin(ProposalAwareMixin, NoDeleteAdminMixin, admin.ModelAdmin):
    form = BankAccountForm
    list_display = ["number", "customer", "currency", "balance", "daily_withdrawal_limit", "status", "ledger"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "customer__full_name", "customer__phone"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/limit/",
                self.admin_site.admin_view(self.limit_request_view),
                name="accounts_bankaccount_limit",
            ),
            *super().get_urls(),
        ]

    def limit_request_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A teller (who cannot edit accounts) asks for another daily limit; an increase awaits approval."""
        account = get_object_or_404(BankAccount.objects.select_related("customer"), pk=pk)
        if not limit_request_allowed(request.user):
            raise PermissionDenied
        form = LimitRequestForm(request.POST or None, initial={"limit": account.daily_withdrawal_limit})
        back = reverse("admin:accounts_bankaccount_change", args=[account.pk])
        if request.method == "POST" and form.is_valid():
            propose_and_report(
                self,
                request,
                what=_("Limit increase"),
                field=_("Daily withdrawal limit"),
                propose=lambda: approvals.limit_change_propose(
                    account=account, limit=form.cleaned_data["limit"], actor=request.user
                ),
            )
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Daily withdrawal limit of %(account)s — %(customer)s")
            % {"account": account.number, "customer": account.customer},
            "opts": self.model._meta,
            "form": form,
            "account": account,
            "back_url": back,
        }
        return TemplateResponse(request, "admin/accounts/bankaccount/limit.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_request_limit": limit_request_allowed(request.user)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("Ledger"))
    def ledger(self, obj: BankAccount) -> str:
        url = reverse("admin:accounts_transaction_changelist")
        return format_html('<a href="{}?account__id__exact={}">{}</a>', url, obj.pk, _("Ledger"))

    def get_readonly_fields(self, request: HttpRequest, obj: BankAccount | None = None) -> list[str]:
        # The balance changes only through the ledger services, never by hand.
        if obj is None:
            return ["balance", "created_at"]
        return ["customer", "number", "balance", "currency", "created_at"]

    def get_exclude(self, request: HttpRequest, obj: BankAccount | None = None) -> list[str]:
        # An account opens active, with a generated number.
        return ["status", "number"] if obj is None else []

    def get_form(
        self, request: HttpRequest, obj: BankAccount | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and "currency" in form.base_fields:
            form.base_fields["currency"] = forms.ChoiceField(
                label=_("Currency"),
                choices=[(code, code) for code in settings.BANK_CURRENCIES],
                initial=settings.BANK_CURRENCIES[0],
            )
        return form

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        if not add and form.instance.pk:
            current = BankAccount.objects.get(pk=form.instance.pk)
            if form.cleaned_data["daily_withdrawal_limit"] > current.daily_withdrawal_limit:
                drop_from_change_message(form, "daily_withdrawal_limit")
        return super().construct_change_message(request, form, formsets, add)

    def save_model(self, request: HttpRequest, obj: BankAccount, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            opened = services.account_open(
                customer=data["customer"],
                currency=data["currency"],
                daily_withdrawal_limit=data["daily_withdrawal_limit"],
                actor=request.user,
            )
            obj.pk, obj.number, obj.created_at = opened.pk, opened.number, opened.created_at
            return
        current = BankAccount.objects.get(pk=obj.pk)
        if data["status"] == BankAccount.Status.CLOSED and current.status != BankAccount.Status.CLOSED:
            propose_and_report(
                self,
                request,
                what="Account closure",
                field="Status",
                propose=lambda: approvals.account_close_propose(account=current, actor=request.user),
            )
        else:
            services.account_status_change(account=current, status=data["status"], actor=request.user)
        propose_and_report(
            self,
            request,
            what=_("Limit increase"),
            field=_("Daily withdrawal limit"),
            propose=lambda: approvals.limit_change_propose(
                account=current, limit=data["daily_withdrawal_limit"], actor=request.user
            ),
        )
        obj.refresh_from_db()
