"""What the accounts admin pages share: the proposal message, the shared-phone warning, the staff search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from atmsite.admin_confirm import StrOrPromise
from atmsite.errors import ApplicationError

from .. import selectors
from ..models import ChangeRequest, Customer

PROPOSED = _("{what} proposed: awaiting approval by a second member of staff (request #{pk}).")


def phone_shared_warn(modeladmin: Any, request: HttpRequest, customer: Customer) -> None:
    """Not refused (family members share phones) but visible: one-time codes for both go to one person."""
    others = list(selectors.customers_with_phone(phone=customer.phone, exclude_id=customer.pk)[:3])
    if others:
        names = ", ".join(other.full_name for other in others)
        modeladmin.message_user(
            request,
            _("The phone %(phone)s already belongs to %(names)s: one-time codes for both go to that phone.")
            % {"phone": customer.phone, "names": names},
            messages.WARNING,
        )


def propose_and_report(
    modeladmin: Any,
    request: HttpRequest,
    *,
    what: StrOrPromise,
    field: StrOrPromise,
    propose: Callable[[], ChangeRequest | None],
) -> None:
    """Make a proposal and tell the clerk: refused (why), or awaiting a second member of staff. A proposal
    service that applies the change at once (a limit decrease) returns None: nothing to say."""
    try:
        proposal = propose()
    except ApplicationError as error:
        text = _("%(field)s not changed: %(error)s") % {"field": field, "error": _(error.message)}
        modeladmin.message_user(request, refusal_with_link(text, error), messages.ERROR)
        return
    if proposal is not None:
        request.proposal_made = True  # type: ignore[attr-defined]
        modeladmin.message_user(request, str(PROPOSED).format(what=what, pk=proposal.pk), messages.WARNING)


class ProposalAwareMixin:
    """No green "changed successfully" next to "proposed: awaiting approval" when nothing else was saved."""

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        message = super().construct_change_message(request, form, formsets, add)  # type: ignore[misc]
        request.other_changes = bool(form.changed_data)  # type: ignore[attr-defined]
        return message

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        if getattr(request, "proposal_made", False) and not getattr(request, "other_changes", True):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)  # type: ignore[misc]


def refusal_with_link(text: str, error: ApplicationError) -> str:
    """A refusal because the same change already waits: link the waiting request (decide or cancel it)."""
    pending = error.extra.get("change_request_id")
    if not pending:
        return text
    return format_html(
        '{} <a href="{}" id="pending-change-link">{}</a>',
        text,
        reverse("admin:accounts_changerequest_change", args=[pending]),
        _("Open request #%(pk)s to decide or cancel it") % {"pk": pending},
    )


def change_request_link(change: ChangeRequest) -> str:
    return reverse("admin:accounts_changerequest_change", args=[change.pk])


def drop_from_change_message(form: Any, name: str) -> None:
    """A field whose change became a proposal is not "changed": keep it out of the admin's own log entry."""
    if name in form.changed_data:
        form.changed_data.remove(name)


class StaffSearchMixin:
    """One meaning for the search box everywhere (accounts.selectors.staff_search_parse): a whole card
    number is looked up by its keyed hash, four digits are a card's last four, a phone matches in any usual
    form, and phone and card digits are never mixed in one result."""

    search_help_text: Any = _(
        "Name, phone (+1 202 555 0101 or (202) 555-0101), the full card number or its last 4 digits."
    )
    search_filter: Any = None

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple:
        search = selectors.staff_search_parse(search_term)
        if search.kind == "empty":
            return queryset, False
        return queryset.filter(type(self).search_filter(search)).distinct(), False
