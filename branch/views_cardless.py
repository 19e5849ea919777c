"""Branch pages for card-less cash: opt-in (consent + account), the customer's PIN pad, opt-out, reset.

The PIN pad is the customer's page: the teller hands the device over; the PIN is typed twice, posted once and
never rendered back (an error re-shows an empty pad).
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import BankAccount, Customer
from accounts.phones import phone_mask
from atmsite.errors import ApplicationError
from atmsite.permissions import staff_user
from kiosk import selectors as kiosk_selectors
from kiosk.approvals import cardless_opt_in_propose, cardless_reset_propose
from kiosk.errors import KioskError
from kiosk.models import CardlessAccess
from kiosk.services import cardless

from .views import branch_staff_required


def _cardless_action(
    request: HttpRequest, customer: Customer, access: CardlessAccess | None, accounts: QuerySet[BankAccount]
) -> HttpResponse:
    """Apply one posted action and redirect; an ApplicationError is the caller's to show."""
    action = request.POST.get("action", "")
    if action == "opt_in":
        # A non-numeric id would make the lookup raise (a 500); it is no account of this customer.
        account_id = request.POST.get("account", "")
        account = accounts.filter(pk=account_id).first() if account_id.isdecimal() else None
        if account is None:
            raise ApplicationError(KioskError.ACCOUNT_INVALID)
        cardless_opt_in_propose(
            customer=customer,
            account=account,
            consent=request.POST.get("consent") == "on",
            actor=staff_user(request),
            reason=request.POST.get("reason", ""),
        )
        messages.info(
            request,
            _(
                "Card-less cash proposed: once a second member of staff approves it, the customer "
                "sets the PIN here."
            ),
        )
        return redirect("branch:cardless", customer_id=customer.pk)
    if action == "opt_out" and access is not None:
        cardless.cardless_opt_out(access=access, actor=staff_user(request), reason="Opted out at the branch")
        messages.info(request, _("Card-less cash is off for this customer."))
        return redirect("branch:cardless", customer_id=customer.pk)
    if action == "reset":
        cardless_reset_propose(
            customer=customer, actor=staff_user(request), reason=request.POST.get("reason", "")
        )
        messages.info(request, _("Reset proposed: a second member of staff must approve it."))
        return redirect("branch:cardless", customer_id=customer.pk)
    raise ApplicationError(KioskError.ACTION_INVALID)


@branch_staff_required
@require_http_methods(["GET", "POST"])
def cardless_manage(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=customer_id)
    standing = kiosk_selectors.cardless_standing(customer=customer)
    status = 200
    # Opting out asks first: the customer loses card-less cash at once (issue 23).
    confirm_opt_out = request.method == "POST" and (
        request.POST.get("action") == "opt_out" and request.POST.get("confirm") != "yes"
    )
    if request.method == "POST" and not confirm_opt_out:
        try:
            return _cardless_action(request, customer, standing.access, standing.accounts)
        except ApplicationError as error:
            messages.error(request, _(error.message))
            status = 400
    return render(
        request,
        "branch/cardless.html",
        {
            "customer": customer,
            "access": standing.access,
            "accounts": standing.accounts,
            "phone": phone_mask(customer.phone),
            "pending": standing.pending,
            "confirm_opt_out": confirm_opt_out,
        },
        status=status,
    )


@branch_staff_required
@require_http_methods(["GET", "POST"])
def cardless_pin_pad(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=customer_id)
    access = kiosk_selectors.cardless_access(customer=customer)
    if access is None or access.status != CardlessAccess.Status.PIN_PENDING:
        return redirect("branch:cardless", customer_id=customer.pk)
    error = ""
    if request.method == "POST":
        try:
            cardless.cardless_pin_set(
                access=access,
                pin=request.POST.get("pin", ""),
                pin_repeat=request.POST.get("pin_repeat", ""),
                actor=staff_user(request),
            )
        except ApplicationError as refusal:
            error = _(refusal.message)
        else:
            return render(request, "branch/cardless_pin_done.html", {"customer": customer})
    return render(
        request,
        "branch/cardless_pin.html",
        {"customer": customer, "error": error},
        status=400 if error else 200,
    )
