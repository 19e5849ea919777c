"""Bank accounts: opened and changed through the services; a limit increase becomes a proposal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from atmsite.admin_mixins import NoDeleteAdminMixin

from .. import services
from ..approvals import services as approvals
from ..forms import BankAccountForm
from ..models import BankAccount
from .common import (
    drop_from_change_message,
    propose_and_report,
)


@admin.register(BankAccount)
class BankAccountAdmin(NoDeleteAdminMixin, admin.ModelAdmin):
    form = BankAccountForm
    list_display = ["number", "customer", "currency", "balance", "daily_withdrawal_limit", "status", "ledger"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "customer__full_name", "customer__phone"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]

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
        services.account_status_change(account=current, status=data["status"], actor=request.user)
        propose_and_report(
            self,
            request,
            what=_("Limit increase"),
            field="Limit",
            propose=lambda: approvals.limit_change_propose(
                account=current, limit=data["daily_withdrawal_limit"], actor=request.user
            ),
        )
        obj.refresh_from_db()
