"""Cards: issue and replacement are proposals; block, report stolen and unblock are confirmed actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from atmsite.admin_confirm import confirmed_action
from atmsite.admin_mixins import NoDeleteAdminMixin
from atmsite.errors import ApplicationError

from .. import selectors, services
from ..approvals import services as approvals
from ..forms import CardBlockForm, CardIssueForm, CardReplaceForm, FaceLockResetForm
from ..models import Card, ChangeRequest
from ..services.cards import FACE_LOCK_RESET_PERMISSION
from .common import (
    PROPOSED,
    StaffSearchMixin,
    change_request_link,
)


@admin.register(Card)
class CardAdmin(StaffSearchMixin, NoDeleteAdminMixin, admin.ModelAdmin):
    form = CardIssueForm
    list_display = ["card_number", "customer", "account", "expires_on", "status", "blocked_reason"]
    list_filter = ["status"]
    search_fields = ["last4"]
    search_filter = staticmethod(selectors.card_search_filter)
    list_select_related = ["customer", "account"]
    # The customer is found by search (name, phone, card); the account is then one of theirs (CardIssueForm).
    autocomplete_fields = ["customer"]

    class Media:
        js = ["admin/js/jquery.init.js", "admin/card_issue.js"]

    actions = ["block_cards", "report_stolen", "unblock_cards", "replace_card", "reset_face_lock"]

    def has_reset_face_lock_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(FACE_LOCK_RESET_PERMISSION)

    @admin.action(
        description=_("Reset the face lock of the selected cards (with a reason)…"),
        permissions=["reset_face_lock"],
    )
    def reset_face_lock(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponse | None:
        def apply(cards: QuerySet[Card], data: dict[str, Any]) -> None:
            changed, skipped = 0, []
            for card in cards:
                try:
                    services.card_face_lock_reset(card=card, reason=data["reason"], actor=request.user)
                    changed += 1
                except ApplicationError as error:
                    skipped.append(f"{card.masked_pan} ({error.message})")
            self._report(request, changed, skipped, _("face lock reset"))

        return confirmed_action(
            self,
            request,
            queryset,
            action_name="reset_face_lock",
            title=_("Reset face locks"),
            explanation=_(
                "The card's face check works again at once. Do this only after checking the customer's ID."
            ),
            submit_label=_("Yes, reset the face lock"),
            form_class=FaceLockResetForm,
            apply=apply,
            describe=self._describe,
        )

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
        # A card is never created here: it is proposed, and a second member of staff approves it.
        request._card_proposal = approvals.card_issue_propose(  # type: ignore[attr-defined]
            customer=form.cleaned_data["customer"],
            account=form.cleaned_data["account"],
            pan=form.cleaned_data["pan"],
            expires_on=form.cleaned_data["expires_on"],
            actor=request.user,
        )

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except ApplicationError as error:
            # The admin's add view is atomic: the refused proposal wrote nothing.
            self.message_user(request, f"Card not proposed: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None  # nothing was added: the proposal is its own audit event

    def response_add(
        self, request: HttpRequest, obj: Card, post_url_continue: str | None = None
    ) -> HttpResponse:
        proposal: ChangeRequest = request._card_proposal  # type: ignore[attr-defined]
        self.message_user(
            request, str(PROPOSED).format(what=_("Card issue"), pk=proposal.pk), messages.WARNING
        )
        return HttpResponseRedirect(change_request_link(proposal))

    def get_urls(self) -> list:
        return [
            path(
                "<int:card_id>/replace/",
                self.admin_site.admin_view(self.replace_view),
                name="accounts_card_replace",
            ),
            *super().get_urls(),
        ]

    def replace_view(self, request: HttpRequest, card_id: int) -> HttpResponse:
        card = get_object_or_404(Card.objects.select_related("customer", "account"), pk=card_id)
        if not self.has_change_permission(request, card):
            return HttpResponse(status=403)
        form = CardReplaceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                proposal = approvals.card_replace_propose(
                    card=card,
                    pan=form.cleaned_data["pan"],
                    expires_on=form.cleaned_data["expires_on"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ApplicationError as error:
                form.add_error(None, _(error.message))
            else:
                self.message_user(
                    request,
                    str(PROPOSED).format(what=_("Card replacement"), pk=proposal.pk),
                    messages.WARNING,
                )
                return HttpResponseRedirect(change_request_link(proposal))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Replace card %(card)s of %(customer)s")
            % {"card": card.masked_pan, "customer": card.customer},
            "opts": self.model._meta,
            "form": form,
            "card": card,
        }
        return TemplateResponse(request, "admin/accounts/card/replace.html", context)

    @admin.action(
        description=_("Replace the selected card (new number; needs approval)"), permissions=["change"]
    )
    def replace_card(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponseRedirect | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one card."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:accounts_card_replace", args=[queryset.get().pk]))

    @admin.display(description=_("Card"), ordering="last4")
    def card_number(self, obj: Card) -> str:
        return obj.masked_pan

    def _describe(self, card: Card) -> str:
        return f"{card.masked_pan} — {card.customer} — {card.account} ({card.get_status_display()})"

    def _block_confirm(
        self, request: HttpRequest, queryset: QuerySet[Card], *, status: str, action_name: str
    ) -> HttpResponse | None:
        stolen = status == Card.Status.STOLEN

        def apply(cards: QuerySet[Card], data: dict[str, Any]) -> None:
            changed, skipped = 0, []
            for card in cards:
                if card.status == Card.Status.STOLEN or (card.status == status):
                    skipped.append(f"{card.masked_pan} ({card.get_status_display().lower()})")
                    continue
                services.card_block(card=card, reason=data["reason"], status=status, actor=request.user)
                changed += 1
            self._report(request, changed, skipped, _("reported stolen") if stolen else _("blocked"))

        return confirmed_action(
            self,
            request,
            queryset,
            action_name=action_name,
            title=_("Report cards stolen") if stolen else _("Block cards"),
            explanation=(
                _("A card reported stolen can never be unblocked: the customer needs a new card.")
                if stolen
                else _("A blocked card is refused at every kiosk until it is unblocked.")
            ),
            submit_label=_("Yes, report stolen") if stolen else _("Yes, block"),
            form_class=CardBlockForm,
            apply=apply,
            describe=self._describe,
        )

    def _report(self, request: HttpRequest, changed: int, skipped: list[str], verb: Any) -> None:
        if changed:
            self.message_user(
                request,
                ngettext("%(count)d card %(verb)s.", "%(count)d cards %(verb)s.", changed)
                % {"count": changed, "verb": verb},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                _("Not changed (already in that state or reported stolen): %(cards)s")
                % {"cards": ", ".join(skipped)},
                messages.WARNING,
            )

    @admin.action(description=_("Block the selected cards (with a reason)…"), permissions=["change"])
    def block_cards(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponse | None:
        return self._block_confirm(request, queryset, status=Card.Status.BLOCKED, action_name="block_cards")

    @admin.action(description=_("Report the selected cards stolen…"), permissions=["change"])
    def report_stolen(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponse | None:
        return self._block_confirm(request, queryset, status=Card.Status.STOLEN, action_name="report_stolen")

    @admin.action(description=_("Unblock the selected cards…"), permissions=["change"])
    def unblock_cards(self, request: HttpRequest, queryset: QuerySet[Card]) -> HttpResponse | None:
        def apply(cards: QuerySet[Card], data: dict[str, Any]) -> None:
            changed, skipped = 0, []
            for card in cards:
                if card.status != Card.Status.BLOCKED:
                    # An active card is not "unblocked"; a stolen or expired one never is.
                    skipped.append(f"{card.masked_pan} ({card.get_status_display().lower()})")
                    continue
                services.card_unblock(card=card, actor=request.user)
                changed += 1
            self._report(request, changed, skipped, _("unblocked"))

        return confirmed_action(
            self,
            request,
            queryset,
            action_name="unblock_cards",
            title=_("Unblock cards"),
            explanation=_("Only blocked cards are unblocked; cards reported stolen stay blocked for good."),
            submit_label=_("Yes, unblock"),
            apply=apply,
            describe=self._describe,
        )
