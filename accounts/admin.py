from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from biometrics.admin import revoke_biometrics

from . import services
from .forms import BankAccountForm, CardIssueForm
from .models import BankAccount, Card, Customer, Transaction


class CardInline(admin.TabularInline):
    model = Card
    fields = ("masked_pan", "account", "expires_on", "status")
    readonly_fields = ("masked_pan", "account", "expires_on", "status")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AccountInline(admin.TabularInline):
    model = BankAccount
    form = BankAccountForm
    fields = ["number", "currency", "balance", "daily_withdrawal_limit", "status"]
    readonly_fields = ["balance"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["full_name", "phone", "email", "has_consent", "is_active", "created_at"]
    list_filter = ["is_active", ("biometric_consent_at", admin.EmptyFieldListFilter)]
    search_fields = ["full_name", "phone", "email", "cards__last4"]
    readonly_fields = ["biometric_consent_at", "biometric_consent_by", "created_at"]
    inlines = [AccountInline, CardInline]
    actions = ["issue_card", revoke_biometrics]

    @admin.display(boolean=True, description="Consent")
    def has_consent(self, obj: Customer) -> bool:
        return obj.biometric_consent_at is not None

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple:
        results, may_duplicate = super().get_search_results(request, queryset, search_term)
        return results.distinct(), may_duplicate

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.customer_create(
            full_name=obj.full_name, phone=obj.phone, email=obj.email, actor=request.user
        )
        obj.pk = created.pk
        obj.created_at = created.created_at

    @admin.action(description="Issue a card to the selected customer", permissions=["change"])
    def issue_card(self, request: HttpRequest, queryset: QuerySet[Customer]) -> HttpResponseRedirect | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one customer.", messages.WARNING)
            return None
        customer = queryset.get()
        return HttpResponseRedirect(f"{reverse('admin:accounts_card_add')}?customer={customer.pk}")


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    form = BankAccountForm
    list_display = ["number", "customer", "currency", "balance", "daily_withdrawal_limit", "status"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "customer__full_name", "customer__phone"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]

    def get_readonly_fields(self, request: HttpRequest, obj: BankAccount | None = None) -> list[str]:
        # The balance changes only through the ledger services, never by hand.
        return ["balance", "created_at"] if obj is None else ["customer", "balance", "currency", "created_at"]


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    form = CardIssueForm
    list_display = ["masked_pan", "customer", "account", "expires_on", "status"]
    list_filter = ["status"]
    search_fields = ["last4", "customer__full_name", "customer__phone"]
    list_select_related = ["customer", "account"]
    raw_id_fields = ["customer", "account"]
    actions = ["block_cards", "unblock_cards"]

    def get_readonly_fields(self, request: HttpRequest, obj: Card | None = None) -> list[str]:
        if obj is None:
            return []
        return ["masked_pan", "customer", "account", "expires_on", "status", "blocked_reason", "created_at"]

    def get_fields(self, request: HttpRequest, obj: Card | None = None) -> Any:
        if obj is None:
            return ["customer", "account", "pan", "expires_on"]
        return self.get_readonly_fields(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Card | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Card, form: Any, change: bool) -> None:
        if change:
            return  # every field is read-only after issue; status changes go through the actions
        card = services.card_issue(
            customer=form.cleaned_data["customer"],
            account=form.cleaned_data["account"],
            pan=form.cleaned_data["pan"],
            expires_on=form.cleaned_data["expires_on"],
            actor=request.user,
        )
        obj.pk, obj.last4, obj.pan_hmac, obj.created_at = card.pk, card.last4, card.pan_hmac, card.created_at

    def _apply(self, request: HttpRequest, queryset: QuerySet[Card], action: Any, verb: str) -> None:
        done = 0
        for card in queryset:
            try:
                action(card)
                done += 1
            except ValidationError as error:
                self.message_user(request, f"{card.masked_pan}: {error.messages[0]}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} card(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Block selected cards", permissions=["change"])
    def block_cards(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._apply(
            request,
            queryset,
            lambda card: services.card_block(card=card, reason="Blocked by staff", actor=request.user),
            "blocked",
        )

    @admin.action(description="Unblock selected cards", permissions=["change"])
    def unblock_cards(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._apply(
            request, queryset, lambda card: services.card_unblock(card=card, actor=request.user), "unblocked"
        )


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    """The ledger is read-only for everyone: rows are written by services only."""

    list_display = ["created_at", "account", "kind", "amount", "balance_after", "card", "kiosk"]
    list_filter = ["kind", "kiosk", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["account__number", "account__customer__full_name", "card__last4", "idempotency_key"]
    list_select_related = ["account", "card", "kiosk"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Transaction | None = None) -> list[str]:
        return [field.name for field in Transaction._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Transaction | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Transaction | None = None) -> bool:
        return False
