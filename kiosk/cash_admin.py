"""Admin for a kiosk's cash: the cash-in module (provision, revoke), dual-control counts (cassettes, bin), the
bin's ledger of deposits and the reconciliations. Blind counts: no page shows what the bin should hold
before the count is recorded; the difference is shown afterwards to staff who may see reconciliations."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atmsite.admin_mixins import ReadOnlyAdminMixin
from atmsite.errors import ApplicationError
from atmsite.permissions import staff_user

from .models import CashCount, CashInDeposit, CashInDevice, CashInReconciliation, Kiosk
from .services.cash_devices import cash_in_device_provision, cash_in_device_revoke
from .services.cash_in import deposit_denominations
from .services.cash_office import CountOutcome, cash_count_submit, kiosk_currency_check


def note_counts_form(denominations: list[int], *, initial: int | None = None) -> type[forms.Form]:
    fields = {
        f"note_{value}": forms.IntegerField(
            label=_("%(value)s notes") % {"value": value},
            min_value=0,
            max_value=1_000_000,
            initial=initial,
        )
        for value in sorted(denominations, reverse=True)
    }
    return type("NoteCountsForm", (forms.Form,), fields)


class CashInDeviceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CashInDevice
    fields = ("device_id", "created_at", "last_report_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    verbose_name_plural = gettext_lazy("cash-in module (note acceptor)")


class KioskForm(forms.ModelForm):
    class Meta:
        model = Kiosk
        fields = ["name", "location", "currency", "status"]

    def clean_currency(self) -> str:
        currency = str(self.cleaned_data["currency"]).upper()
        try:
            kiosk_currency_check(kiosk=self.instance, currency=currency)
        except ApplicationError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        return currency


def _outcome_message(request: HttpRequest, kiosk: Kiosk, outcome: CountOutcome) -> tuple[str, int]:
    if outcome.status == "entered":
        return _("count saved; a second member of staff must now count and enter it."), messages.INFO
    if outcome.status == "discarded":
        return _("the two counts differ: nothing was applied. Both count again."), messages.ERROR
    reconciliation = outcome.reconciliation
    if reconciliation is None:
        return _("cassettes loaded; both counts agreed."), messages.SUCCESS
    if not request.user.has_perm("kiosk.view_cashinreconciliation"):
        return _("bin emptied; the count is recorded."), messages.SUCCESS
    if reconciliation.notes_differ:
        return (
            _("bin emptied; the count differs from the deposits by %(difference)s %(currency)s.")
            % {"difference": f"{reconciliation.difference:+}", "currency": kiosk.currency},
            messages.WARNING,
        )
    return _("bin emptied; the count matches the deposits."), messages.SUCCESS


class KioskCashActionsMixin:
    """Actions of KioskAdmin that touch cash (a mixin keeps kiosk/admin.py small)."""

    admin_site: admin.AdminSite
    message_user: Any
    _one: Any
    _show_once: Any

    @admin.action(
        description=gettext_lazy("Provision the cash-in module (new key, shown once)"), permissions=["change"]
    )
    def provision_cash_in_module(
        self, request: HttpRequest, queryset: QuerySet[Kiosk]
    ) -> HttpResponse | None:
        kiosk = self._one(request, queryset)
        if kiosk is None:
            return None
        device, key = cash_in_device_provision(kiosk=kiosk, actor=staff_user(request))
        return self._show_once(
            request,
            kiosk,
            title=_("Cash-in module credential"),
            secret=f"device {device.device_id}  key {key}",
            note=_(
                "install both in the cash-in module; it signs every count report with the key. "
                "The previous module of this kiosk no longer works."
            ),
        )

    @admin.action(description=gettext_lazy("Revoke the cash-in module"), permissions=["change"])
    def revoke_cash_in_module(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> None:
        for kiosk in queryset:
            revoked = cash_in_device_revoke(kiosk=kiosk, actor=staff_user(request))
            level = messages.SUCCESS if revoked else messages.WARNING
            self.message_user(
                request, f"{kiosk}: " + _("%(count)d cash-in module(s) revoked.") % {"count": revoked}, level
            )

    def _count_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[Kiosk],
        *,
        kind: str,
        action: str,
        title: str,
        note: str,
        held: str,
        initial: int | None = None,
    ) -> HttpResponse | None:
        """A blind count form (no expected figure anywhere, at most a neutral 0 pre-filled); each submit is
        one person's count."""
        kiosk = self._one(request, queryset)
        if kiosk is None:
            return None
        values = set(getattr(kiosk, held).values_list("denomination", flat=True))
        denominations = sorted(values | set(deposit_denominations(currency=kiosk.currency)))
        form = note_counts_form(denominations, initial=initial)(
            request.POST if "apply" in request.POST else None
        )
        if form.is_valid():
            counts = {int(name.removeprefix("note_")): value for name, value in form.cleaned_data.items()}
            try:
                outcome = cash_count_submit(kiosk=kiosk, kind=kind, counts=counts, actor=staff_user(request))
            except ApplicationError as error:
                self.message_user(request, f"{kiosk}: {error.message}", messages.ERROR)
                return None
            message, level = _outcome_message(request, kiosk, outcome)
            self.message_user(request, f"{kiosk}: {message}", level)
            return None
        pending = CashCount.objects.filter(kiosk=kiosk, kind=kind, status=CashCount.Status.PENDING).first()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "kiosk": kiosk,
            "note": note,
            "form": form,
            "action": action,
            "pending": pending,
            "back_url": reverse("admin:kiosk_kiosk_change", args=[kiosk.pk]),
        }
        return TemplateResponse(request, "kiosk/admin_note_counts.html", context)

    @admin.action(
        description=gettext_lazy("Load or replenish the cassettes (two people count)"), permissions=["change"]
    )
    def load_cassettes(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> HttpResponse | None:
        return self._count_page(
            request,
            queryset,
            kind=CashCount.Kind.CASSETTES_LOAD,
            action="load_cassettes",
            title=_("Load the cassettes"),
            held="cassettes",
            note=_("enter the number of notes each cassette holds after loading."),
            # Zeros, not today's counts: staff type only the cassettes they loaded, and the second person
            # cannot confirm by re-submitting figures the page already shows.
            initial=0,
        )

    @admin.action(
        description=gettext_lazy("Empty and count the cash-in bin (two people count)"), permissions=["change"]
    )
    def empty_bin(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> HttpResponse | None:
        return self._count_page(
            request,
            queryset,
            kind=CashCount.Kind.BIN_COUNT,
            action="empty_bin",
            title=_("Empty and count the cash-in bin"),
            held="cash_in_bin",
            note=_("enter the notes you took out of the bin, per denomination."),
        )


class CashInDepositInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The deposits a reconciliation closed: the session, the customer who confirmed it, the notes."""

    model = CashInDeposit
    fields = (
        "confirmed_at",
        "session",
        "customer_id",
        "card_last4",
        "notes",
        "total",
        "device",
        "transaction",
    )
    readonly_fields = fields
    extra = 0


@admin.register(CashInReconciliation)
class CashInReconciliationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every recorded count of a cash-in bin with the deposits since the count before. Read-only."""

    list_display = [
        "counted_at",
        "kiosk",
        "counted_by",
        "confirmed_by",
        "expected_total",
        "counted_total",
        "difference",
        "notes_differ",
        "currency",
    ]
    list_filter = ["notes_differ", "kiosk", "currency"]
    list_select_related = ["kiosk", "counted_by", "confirmed_by"]
    date_hierarchy = "counted_at"
    inlines = [CashInDepositInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


@admin.register(CashCount)
class CashCountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who entered and who confirmed each cash count; the entered figures are never shown."""

    fields = (
        "entered_at",
        "kiosk",
        "kind",
        "status",
        "entered_by",
        "confirmed_by",
        "decided_at",
    )
    list_display = fields
    list_filter = ["kind", "status", "kiosk"]
    list_select_related = ["kiosk", "entered_by", "confirmed_by"]
    readonly_fields = fields
