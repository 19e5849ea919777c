from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from atmsite.admin_confirm import confirmed_action
from atmsite.errors import ApplicationError
from biometrics import selectors as biometric_selectors
from biometrics.admin import erase_biometrics, revoke_biometrics

from . import onboarding, selectors, services
from .approvals import services as approvals
from .forms import BankAccountForm, CardBlockForm, CardIssueForm, CardReplaceForm, ChangeRejectForm
from .models import BankAccount, Card, ChangeRequest, Customer, Transaction

PROPOSED = "{what} proposed: awaiting approval by a second member of staff (request #{pk})."


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


def _change_request_link(change: ChangeRequest) -> str:
    return reverse("admin:accounts_changerequest_change", args=[change.pk])


def _drop_from_change_message(form: Any, name: str) -> None:
    """A field whose change became a proposal is not "changed": keep it out of the admin's own log entry."""
    if name in form.changed_data:
        form.changed_data.remove(name)


class _NoDelete:
    """Customers, accounts and cards are closed, blocked or replaced through services, never deleted: the
    ledger, the audit trail and the change requests refer to them."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
    """Read-only: accounts are opened and changed on their own page, through the services."""

    model = BankAccount
    fields = readonly_fields = ("number", "currency", "balance", "daily_withdrawal_limit", "status")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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


@admin.register(Customer)
class CustomerAdmin(StaffSearchMixin, _NoDelete, admin.ModelAdmin):
    list_display = ["full_name", "phone", "cards_column", "email", "has_consent", "is_active", "created_at"]
    list_filter = ["is_active", ("biometric_consent_at", admin.EmptyFieldListFilter)]
    # Needed by the autocomplete widgets; the matching itself is StaffSearchMixin's.
    search_fields = ["full_name"]
    search_filter = staticmethod(selectors.customer_search_filter)
    readonly_fields = [
        "biometric_status",
        "biometric_consent_at",
        "biometric_consent_by",
        "phone_changed_at",
        "created_at",
    ]
    inlines = [AccountInline, CardInline]
    actions = ["issue_card", revoke_biometrics, erase_biometrics]

    @admin.display(boolean=True, description=_("Consent"))
    def has_consent(self, obj: Customer) -> bool:
        return obj.biometric_consent_at is not None

    @admin.display(description=_("Face verification"))
    def biometric_status(self, obj: Customer) -> str:
        if obj.pk is None:
            return "—"
        return biometric_selectors.customer_biometric_status(customer=obj).text

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
                "<int:pk>/erase-biometrics/",
                view(self.erase_biometrics_view),
                name="accounts_customer_erase_biometrics",
            ),
            path(
                "<int:pk>/revoke-biometrics/",
                view(self.revoke_biometrics_view),
                name="accounts_customer_revoke_biometrics",
            ),
            *super().get_urls(),
        ]

    def _one_customer_action(self, request: HttpRequest, pk: int, action: Any) -> HttpResponse:
        customer = get_object_or_404(Customer, pk=pk)
        if not self.has_view_permission(request, customer):
            raise PermissionDenied
        answer = action(self, request, Customer.objects.filter(pk=customer.pk))
        if answer is not None:
            return answer
        return HttpResponseRedirect(reverse("admin:accounts_customer_change", args=[customer.pk]))

    def erase_biometrics_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._one_customer_action(request, pk, erase_biometrics)

    def revoke_biometrics_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._one_customer_action(request, pk, revoke_biometrics)

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
            _drop_from_change_message(form, "phone")
        return super().construct_change_message(request, form, formsets, add)

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        if change:
            # Never obj.save(): the phone becomes a proposal, the rest is saved and audited by a service.
            current = Customer.objects.get(pk=obj.pk)
            data = form.cleaned_data
            services.customer_details_update(
                customer=current, actor=request.user, full_name=data["full_name"], email=data["email"]
            )
            if data["is_active"] != current.is_active:
                services.customer_active_set(
                    customer=current, is_active=data["is_active"], actor=request.user
                )
            if data["phone"] != current.phone:
                try:
                    proposal = approvals.phone_change_propose(
                        customer=current, phone=data["phone"], actor=request.user
                    )
                except ApplicationError as error:
                    self.message_user(request, f"Phone not changed: {error.message}", messages.ERROR)
                else:
                    self.message_user(
                        request, PROPOSED.format(what="Phone change", pk=proposal.pk), messages.WARNING
                    )
            obj.refresh_from_db()
            return
        created = services.customer_create(
            full_name=obj.full_name, phone=obj.phone, email=obj.email, actor=request.user
        )
        obj.pk = created.pk
        obj.created_at = created.created_at
        phone_shared_warn(self, request, created)

    @admin.action(description=_("Issue a card to the selected customer"), permissions=["change"])
    def issue_card(self, request: HttpRequest, queryset: QuerySet[Customer]) -> HttpResponseRedirect | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one customer.", messages.WARNING)
            return None
        customer = queryset.get()
        return HttpResponseRedirect(f"{reverse('admin:accounts_card_add')}?customer={customer.pk}")


@admin.register(BankAccount)
class BankAccountAdmin(_NoDelete, admin.ModelAdmin):
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
                _drop_from_change_message(form, "daily_withdrawal_limit")
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
        try:
            proposal = approvals.limit_change_propose(
                account=current, limit=data["daily_withdrawal_limit"], actor=request.user
            )
        except ApplicationError as error:
            self.message_user(request, f"Limit not changed: {error.message}", messages.ERROR)
        else:
            if proposal is not None:
                self.message_user(
                    request, PROPOSED.format(what="Limit increase", pk=proposal.pk), messages.WARNING
                )
        obj.refresh_from_db()


@admin.register(Card)
class CardAdmin(StaffSearchMixin, _NoDelete, admin.ModelAdmin):
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

    actions = ["block_cards", "report_stolen", "unblock_cards", "replace_card"]

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
        self.message_user(request, PROPOSED.format(what="Card issue", pk=proposal.pk), messages.WARNING)
        return HttpResponseRedirect(_change_request_link(proposal))

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
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request, PROPOSED.format(what="Card replacement", pk=proposal.pk), messages.WARNING
                )
                return HttpResponseRedirect(_change_request_link(proposal))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Replace card {card.masked_pan} of {card.customer}",
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
            self.message_user(request, "Select exactly one card.", messages.WARNING)
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


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Transaction | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Transaction | None = None) -> bool:
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    """Pending approvals: read-only rows; approve / reject / cancel on confirmation pages, via services."""

    list_display = ["id", "kind", "customer", "summary", "state", "proposed_by", "proposed_at", "decide"]
    list_filter = ["state", "kind"]
    search_fields = ["customer__full_name", "summary"]
    list_select_related = ["customer", "proposed_by", "decided_by"]
    fields = readonly_fields = (
        "kind",
        "state",
        "customer",
        "target",
        "summary",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "reason",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requests come from the customer, account and card pages and from enrolment

    def has_change_permission(self, request: HttpRequest, obj: ChangeRequest | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ChangeRequest | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if not request.GET:
            # Opening the list shows what waits for a decision.
            return HttpResponseRedirect(f"{request.path}?state__exact={ChangeRequest.State.PENDING}")
        if request.GET.get("state__exact") == ChangeRequest.State.PENDING:
            extra_context = {**(extra_context or {}), "title": _("Pending approvals")}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("Decide"))
    def decide(self, obj: ChangeRequest) -> str:
        if obj.state != ChangeRequest.State.PENDING:
            return "—"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:accounts_changerequest_approve", args=[obj.pk]),
            _("Approve"),
            reverse("admin:accounts_changerequest_reject", args=[obj.pk]),
            _("Reject"),
        )

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
                self.message_user(request, f"Request #{change.pk}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request, f"Request #{change.pk} ({change.get_kind_display()}) {action}.", messages.SUCCESS
                )
            return HttpResponseRedirect(reverse("admin:accounts_changerequest_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.capitalize()}: {change.get_kind_display()} for {change.customer}",
            "opts": self.model._meta,
            "change": change,
            "values": approvals.change_request_values(change),
            "action": action,
            "form": form,
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
