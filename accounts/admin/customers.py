"""Customers: their page, with their accounts and cards read-only inline."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from atmsite.admin_mixins import NoDeleteAdminMixin, ReadOnlyAdminMixin

from .. import onboarding, selectors, services
from ..approvals import services as approvals
from ..forms import CustomerAdminForm
from ..models import BankAccount, Card, Customer
from ..phones import PhoneField
from .common import (
    ProposalAwareMixin,
    StaffSearchMixin,
    drop_from_change_message,
    phone_shared_warn,
    propose_and_report,
)
from .overview import customer_overview_view


class CardInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Read-only: cards are issued, blocked and replaced on their own page, through the services."""

    model = Card
    fields = ("masked_pan", "account", "expires_on", "status")
    readonly_fields = ("masked_pan", "account", "expires_on", "status")
    extra = 0
    can_delete = False
    show_change_link = True


class AccountInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Read-only: accounts are opened and changed on their own page, through the services."""

    model = BankAccount
    fields = readonly_fields = ("number", "currency", "balance", "daily_withdrawal_limit", "status")
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(ProposalAwareMixin, StaffSearchMixin, NoDeleteAdminMixin, admin.ModelAdmin):
    """The customer page of accounts' own parts. biometrics.admin registers its subclass in its place, adding
    the face status, the revoke/erase actions and their one-customer pages: accounts cannot import them."""

    list_display = [
        "full_name",
        "phone",
        "cards_column",
        "email",
        "has_consent",
        "is_active",
        "created_at",
        "overview_link",
    ]
    list_filter = ["is_active", ("biometric_consent_at", admin.EmptyFieldListFilter)]
    # Needed by the autocomplete widgets; the matching itself is StaffSearchMixin's.
    search_fields = ["full_name"]
    search_filter = staticmethod(selectors.customer_search_filter)
    readonly_fields = [
        "biometric_consent_at",
        "biometric_consent_by",
        "phone_changed_at",
        "created_at",
    ]
    inlines = [AccountInline, CardInline]
    actions: list[Any] = ["issue_card"]
    form = CustomerAdminForm

    @admin.display(boolean=True, description=_("Consent"))
    def has_consent(self, obj: Customer) -> bool:
        return obj.biometric_consent_at is not None

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            # A read-only viewer cannot change the phone, so the reason for changing it is no field of theirs.
            fields = [name for name in fields if name != "change_reason"]
        return fields

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "onboard/",
                view(lambda request: onboarding.customer_step(self, request)),
                name="accounts_customer_onboard",
            ),
            path(
                "onboard/<int:customer_id>/account/",
                view(lambda request, customer_id: onboarding.account_step(self, request, customer_id)),
                name="accounts_customer_onboard_account",
            ),
            path(
                "onboard/<int:customer_id>/account/<int:account_id>/card/",
                view(
                    lambda request, customer_id, account_id: onboarding.card_step(
                        self, request, customer_id, account_id
                    )
                ),
                name="accounts_customer_onboard_card",
            ),
            path(
                "<int:pk>/overview/",
                view(lambda request, pk: customer_overview_view(self, request, pk)),
                name="accounts_customer_overview",
            ),
            *super().get_urls(),
        ]

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        """Unticking "active" asks first (issue 23): the posted form comes back on a confirmation page."""
        customer = (
            Customer.objects.filter(pk=object_id).first() if object_id and object_id.isdigit() else None
        )
        deactivating = (
            request.method == "POST"
            and customer is not None
            and customer.is_active
            and "is_active" not in request.POST
            and request.POST.get("confirm_deactivate") != "yes"
        )
        if deactivating and self.has_change_permission(request, customer):
            context = {
                **self.admin_site.each_context(request),
                "title": _("Deactivate %(customer)s?") % {"customer": customer},
                "opts": self.model._meta,
                "customer": customer,
                "posted": [
                    (k, v)
                    for k in request.POST
                    if k != "csrfmiddlewaretoken"
                    for v in request.POST.getlist(k)
                ],
            }
            return TemplateResponse(request, "admin/accounts/customer/confirm_deactivate.html", context)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "phone":
            # "8 (916) 555-12-34", "+7 916 555-12-34": cleaned to E.164 before the model sees it.
            return PhoneField(
                label=db_field.verbose_name, help_text=_("E.g. +7 916 555-12-34 or 8 (916) 555-12-34.")
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def one_customer_action(self, request: HttpRequest, pk: int, action: Any) -> HttpResponse:
        """A list action run from one customer's page (the apps above accounts give theirs a URL with it)."""
        customer = get_object_or_404(Customer, pk=pk)
        if not self.has_view_permission(request, customer):
            raise PermissionDenied
        answer = action(self, request, Customer.objects.filter(pk=customer.pk))
        if answer is not None:
            return answer
        return HttpResponseRedirect(reverse("admin:accounts_customer_change", args=[customer.pk]))

    @admin.display(description=_("Customer 360"))
    def overview_link(self, obj: Customer) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:accounts_customer_overview", args=[obj.pk]), _("Open")
        )

    @admin.display(description=_("Cards"))
    def cards_column(self, obj: Customer) -> str:
        cards = list(obj.cards.all())
        if not cards:
            return "—"
        return format_html_join(
            ", ", "{} <small>({})</small>", ((card.masked_pan, card.get_status_display()) for card in cards)
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return super().get_queryset(request).prefetch_related("cards")

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        if not add:
            drop_from_change_message(form, "phone")
            drop_from_change_message(form, "change_reason")  # said to the approver, not a field of its own
        return super().construct_change_message(request, form, formsets, add)

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        if change:
            # Never obj.save(): the phone becomes a proposal, the rest is saved and audited by a service.
            current = Customer.objects.get(pk=obj.pk)
            data = form.cleaned_data
            services.customer_details_update(
                customer=current,
                actor=request.user,
                full_name=data["full_name"],
                email=data["email"],
                language=data.get("preferred_language"),
            )
            if data["is_active"] != current.is_active:
                services.customer_active_set(
                    customer=current, is_active=data["is_active"], actor=request.user
                )
            if data["phone"] != current.phone:
                propose_and_report(
                    self,
                    request,
                    what=_("Phone change"),
                    field=_("Phone"),
                    propose=lambda: approvals.phone_change_propose(
                        customer=current,
                        phone=data["phone"],
                        actor=request.user,
                        reason=data.get("change_reason", ""),
                    ),
                )
            obj.refresh_from_db()
            return
        created = services.customer_create(
            full_name=obj.full_name,
            phone=obj.phone,
            email=obj.email,
            language=obj.preferred_language,
            actor=request.user,
        )
        obj.pk = created.pk
        obj.created_at = created.created_at
        phone_shared_warn(self, request, created)

    @admin.action(description=_("Issue a card to the selected customer"), permissions=["change"])
    def issue_card(self, request: HttpRequest, queryset: QuerySet[Customer]) -> HttpResponseRedirect | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one customer."), messages.WARNING)
            return None
        customer = queryset.get()
        return HttpResponseRedirect(f"{reverse('admin:accounts_card_add')}?customer={customer.pk}")
