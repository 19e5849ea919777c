"""The teller's guided flow in the back office: new (or found) customer → account → card proposal.

Each step is one page that calls one service; the card step creates the four-eyes card-issue proposal, so
nothing here lets one person hand a card to anyone on their own.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atmsite.errors import ApplicationError

from . import selectors, services
from .approvals import services as approvals
from .forms import OnboardAccountForm, OnboardCardForm, OnboardCustomerForm
from .models import BankAccount, Customer

STEPS = (gettext_lazy("Customer"), gettext_lazy("Account"), gettext_lazy("Card"))


def _page(
    modeladmin: admin.ModelAdmin, request: HttpRequest, template: str, step: int, **context: Any
) -> TemplateResponse:
    return TemplateResponse(
        request,
        f"admin/accounts/onboard/{template}.html",
        {
            **modeladmin.admin_site.each_context(request),
            "opts": Customer._meta,
            "title": _("New customer, account and card"),
            "steps": [(number, name, number == step) for number, name in enumerate(STEPS, start=1)],
            **context,
        },
    )


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def customer_step(modeladmin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Find the customer by search (name, phone, full card number, last 4) or create a new one."""
    _require(request, "accounts.view_customer")
    term = request.GET.get("q", "").strip()[:100]
    found = list(selectors.customers_find(term=term, limit=20)) if term else []
    form = OnboardCustomerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        _require(request, "accounts.add_customer")
        if form.is_valid():
            try:
                customer = services.customer_create(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                _warn_shared_phone(request, customer)
                messages.success(request, _("Customer %(name)s created.") % {"name": customer.full_name})
                return HttpResponseRedirect(
                    reverse("admin:accounts_customer_onboard_account", args=[customer.pk])
                )
    return _page(
        modeladmin,
        request,
        "customer",
        1,
        form=form,
        term=term,
        found=found,
        search_kind=selectors.staff_search_parse(term).label if term else "",
    )


def _warn_shared_phone(request: HttpRequest, customer: Customer) -> None:
    others = [
        other.full_name
        for other in selectors.customers_with_phone(phone=customer.phone, exclude_id=customer.pk)[:3]
    ]
    if others:
        messages.warning(
            request,
            _("The phone %(phone)s already belongs to %(names)s: one-time codes for both go to that phone.")
            % {"phone": customer.phone, "names": ", ".join(others)},
        )


def account_step(modeladmin: admin.ModelAdmin, request: HttpRequest, customer_id: int) -> HttpResponse:
    _require(request, "accounts.view_customer")
    customer = get_object_or_404(Customer, pk=customer_id)
    form = OnboardAccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        _require(request, "accounts.add_bankaccount")
        if form.is_valid():
            try:
                account = services.account_open(customer=customer, actor=request.user, **form.cleaned_data)
            except (ValidationError, ApplicationError) as error:
                form.add_error(None, getattr(error, "message", None) or error.messages[0])  # type: ignore[union-attr]
            else:
                messages.success(request, _("Account %(number)s opened.") % {"number": account.number})
                return HttpResponseRedirect(
                    reverse("admin:accounts_customer_onboard_card", args=[customer.pk, account.pk])
                )
    accounts = list(customer.accounts.filter(status=BankAccount.Status.ACTIVE).order_by("created_at"))
    return _page(modeladmin, request, "account", 2, customer=customer, form=form, accounts=accounts)


def card_step(
    modeladmin: admin.ModelAdmin, request: HttpRequest, customer_id: int, account_id: int
) -> HttpResponse:
    _require(request, "accounts.view_customer")
    customer = get_object_or_404(Customer, pk=customer_id)
    # Only this customer's account: an id of someone else's account is simply not found.
    account = get_object_or_404(BankAccount, pk=account_id, customer=customer)
    form = OnboardCardForm(
        request.POST if request.method == "POST" else None, customer=customer, account=account
    )
    if request.method == "POST":
        _require(request, "accounts.add_card")
        if form.is_valid():
            try:
                proposal = approvals.card_issue_propose(
                    customer=customer,
                    account=account,
                    pan=form.cleaned_data["pan"],
                    expires_on=form.cleaned_data["expires_on"],
                    actor=request.user,
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                return _page(
                    modeladmin, request, "done", 4, customer=customer, account=account, proposal=proposal
                )
    return _page(modeladmin, request, "card", 3, customer=customer, account=account, form=form)
