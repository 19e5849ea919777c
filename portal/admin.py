"""Back office for the portal: the fraud-case queue, read-only portal logins, and the teller's
"activate online banking" action on a customer (registered here, so accounts does not depend on portal)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from atmsite.admin_mixins import NoDeleteAdminMixin, ReadOnlyAdminMixin
from atmsite.errors import ApplicationError

from . import services
from .models import CustomerLogin, FraudCase
from .qr import qr_svg


@admin.action(description=_("Activate online banking (send the link on WhatsApp)"), permissions=["change"])
def activate_online_banking(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Customer]
) -> HttpResponse | None:
    customers = list(queryset[:2])
    if len(customers) != 1:
        modeladmin.message_user(request, _("Choose exactly one customer."), messages.ERROR)
        return None
    customer = customers[0]
    try:
        link = services.portal_activation_issue(
            customer=customer, actor=request.user, link_base=request.build_absolute_uri("/")
        )
    except ApplicationError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "customer": customer,
        "link": link,
        "qr_svg": qr_svg(link),
        "title": _("Online banking activation"),
    }
    return TemplateResponse(request, "portal/admin/activation_link.html", context)


customer_admin = admin.site.get_model_admin(Customer)
customer_admin.actions = [*customer_admin.actions, activate_online_banking]  # type: ignore[misc]


class FraudCaseForm(forms.ModelForm):
    class Meta:
        model = FraudCase
        fields = ["state", "resolution"]


@admin.register(FraudCase)
class FraudCaseAdmin(NoDeleteAdminMixin, admin.ModelAdmin):
    """The fraud team's queue of "this was not me" reports; state changes go through fraud_case_update."""

    form = FraudCaseForm
    list_display = ["pk", "opened_at", "customer", "card", "state", "card_frozen", "handled_by"]
    list_filter = ["state"]
    list_select_related = ["customer", "card", "handled_by"]
    readonly_fields = [
        "customer",
        "card",
        "session_link",
        "customer_note",
        "opened_at",
        "handled_by",
        "closed_at",
    ]
    fields = [
        "customer",
        "card",
        "session_link",
        "opened_at",
        "customer_note",
        "state",
        "resolution",
        "handled_by",
        "closed_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # opened only by customers, in the portal

    @admin.display(description=_("Kiosk session"))
    def session_link(self, obj: FraudCase) -> str:
        session = obj.session
        when = f"{session.created_at:%Y-%m-%d %H:%M}"
        return f"{session.public_id} · {session.kiosk} · {when} · {session.get_state_display()}"

    def save_model(self, request: HttpRequest, obj: FraudCase, form: Any, change: bool) -> None:
        try:
            services.fraud_case_update(
                case=obj,
                state=form.cleaned_data["state"],
                actor=request.user,
                resolution=form.cleaned_data["resolution"],
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)

    def get_queryset(self, request: HttpRequest) -> QuerySet[FraudCase]:
        return super().get_queryset(request).select_related("session__kiosk")


@admin.register(CustomerLogin)
class CustomerLoginAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Shown, never edited: activation, lock-out and second factors change through the portal services."""

    list_display = ["customer", "activated_at", "has_totp", "locked_until", "last_sign_in_at"]
    list_select_related = ["customer"]
    fields = [
        "customer",
        "activated_at",
        "activation_expires_at",
        "locked_until",
        "last_sign_in_at",
        "notify_withdrawals",
        "notify_face_failures",
        "language",
    ]

    @admin.display(boolean=True, description=_("Authenticator app"))
    def has_totp(self, obj: CustomerLogin) -> bool:
        return obj.has_totp
