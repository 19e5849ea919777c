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

from atmsite.admin_confirm import confirmed_action
from atmsite.admin_mixins import ReadOnlyAdminMixin
from atmsite.errors import ApplicationError
from atmsite.permissions import staff_user

from .models import (
    CardlessAccess,
    CashInBin,
    CashInReconciliation,
    Cassette,
    Kiosk,
    KioskCredential,
    KioskSession,
)
from .services.cardless import cardless_opt_out
from .services.cash_in import cash_in_bin_empty, cassettes_load, deposit_denominations
from .services.credentials import (
    kiosk_credential_revoke,
    kiosk_credential_rotate,
    kiosk_provisioning_code_create,
)


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Cash is changed only by the services behind the kiosk actions, never by editing rows."""

    extra = 0
    can_delete = False


class CassetteInline(_ReadOnlyInline):
    model = Cassette
    fields = ["denomination", "count"]
    readonly_fields = ["denomination", "count"]


class CashInBinInline(_ReadOnlyInline):
    model = CashInBin
    fields = ["denomination", "count"]
    readonly_fields = ["denomination", "count"]
    verbose_name_plural = gettext_lazy("cash-in bin (deposited notes since the last emptying)")


def _note_counts_form(denominations: list[int], initial: dict[int, int]) -> type[forms.Form]:
    fields = {
        f"note_{value}": forms.IntegerField(
            label=_("%(value)s notes") % {"value": value},
            min_value=0,
            max_value=1_000_000,
            initial=initial.get(value),
        )
        for value in sorted(denominations, reverse=True)
    }
    return type("NoteCountsForm", (forms.Form,), fields)


class CredentialInline(admin.TabularInline):
    model = KioskCredential
    fields = ["created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["created_at", "last_used_at", "revoked_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Kiosk)
class KioskAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "currency", "status", "cash_total", "bin_total", "has_credential"]
    list_filter = ["status", "currency"]
    search_fields = ["name", "location"]
    inlines = [CassetteInline, CashInBinInline, CredentialInline]
    actions = ["provisioning_link", "rotate_credential", "revoke_credential", "load_cassettes", "empty_bin"]

    @admin.display(description=gettext_lazy("Cash"))
    def cash_total(self, obj: Kiosk) -> str:
        total = sum(c.denomination * c.count for c in obj.cassettes.all())
        return f"{total} {obj.currency}"

    @admin.display(description=gettext_lazy("Cash-in bin"))
    def bin_total(self, obj: Kiosk) -> str:
        total = sum(row.denomination * row.count for row in obj.cash_in_bin.all())
        return f"{total} {obj.currency}"

    @admin.display(boolean=True, description=gettext_lazy("Provisioned"))
    def has_credential(self, obj: Kiosk) -> bool:
        return obj.credentials.filter(revoked_at__isnull=True).exists()

    def _one(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> Kiosk | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one kiosk."), messages.WARNING)
            return None
        return queryset.get()

    def _show_once(
        self, request: HttpRequest, kiosk: Kiosk, *, title: str, secret: str, note: str
    ) -> HttpResponse:
        # Rendered directly, never put in the messages framework (which may keep it in a cookie).
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "kiosk": kiosk,
            "secret": secret,
            "note": note,
            "back_url": reverse("admin:kiosk_kiosk_change", args=[kiosk.pk]),
        }
        response = TemplateResponse(request, "kiosk/admin_credential.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=gettext_lazy("Create a one-time provisioning link"), permissions=["change"])
    def provisioning_link(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> HttpResponse | None:
        kiosk = self._one(request, queryset)
        if kiosk is None:
            return None
        code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=staff_user(request))
        # The code goes in the fragment: browsers never send it, so no access log or Referer holds it.
        link = request.build_absolute_uri(reverse("kiosk:provision")) + f"#{raw}"
        return self._show_once(
            request,
            kiosk,
            title=_("One-time provisioning link"),
            secret=link,
            note=_(
                "open it in the kiosk's browser before %(time)s UTC; it works once and "
                "replaces the kiosk's current credential."
            )
            % {"time": f"{code.expires_at:%H:%M}"},
        )

    @admin.action(
        description=gettext_lazy("Rotate the credential (API clients: new token)"), permissions=["change"]
    )
    def rotate_credential(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> HttpResponse | None:
        kiosk = self._one(request, queryset)
        if kiosk is None:
            return None
        _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=staff_user(request))
        return self._show_once(
            request,
            kiosk,
            title=_("New kiosk token"),
            secret=f"Kiosk {token}",
            note=_("send it as the Authorization header; the previous credential no longer works."),
        )

    @admin.action(
        description=gettext_lazy("Revoke the credential (device lost or retired)"), permissions=["change"]
    )
    def revoke_credential(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> HttpResponse | None:
        def apply(kiosks: QuerySet[Kiosk], _data: dict[str, Any]) -> None:
            for kiosk in kiosks:
                revoked = kiosk_credential_revoke(kiosk=kiosk, actor=staff_user(request))
                if revoked:
                    self.message_user(
                        request,
                        _("%(kiosk)s: %(count)s credential(s) revoked.") % {"kiosk": kiosk, "count": revoked},
                        messages.SUCCESS,
                    )
                else:
                    # Nothing happened: not a success to show in green.
                    self.message_user(
                        request,
                        _("%(kiosk)s: had no active credential.") % {"kiosk": kiosk},
                        messages.WARNING,
                    )

        return confirmed_action(
            self,
            request,
            queryset,
            action_name="revoke_credential",
            title=_("Revoke kiosk credentials"),
            explanation=_("The kiosk stops at once; it needs a new provisioning link to serve customers."),
            submit_label=_("Yes, revoke"),
            apply=apply,
        )

    def _note_counts(
        self,
        request: HttpRequest,
        queryset: QuerySet[Kiosk],
        *,
        action: str,
        title: str,
        note: str,
        denominations: Any,
        initial: Any,
        apply: Any,
    ) -> HttpResponse | None:
        """An intermediate page where staff enter a count per denomination, then one service call."""
        kiosk = self._one(request, queryset)
        if kiosk is None:
            return None
        form_class = _note_counts_form(denominations(kiosk), initial(kiosk))
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            counts = {int(name.removeprefix("note_")): value for name, value in form.cleaned_data.items()}
            try:
                message = apply(kiosk, counts)
            except ApplicationError as error:
                self.message_user(request, f"{kiosk}: {error.message}", messages.ERROR)
                return None
            self.message_user(request, f"{kiosk}: {message}", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "kiosk": kiosk,
            "note": note,
            "form": form,
            "action": action,
            "back_url": reverse("admin:kiosk_kiosk_change", args=[kiosk.pk]),
        }
        return TemplateResponse(request, "kiosk/admin_note_counts.html", context)

    @admin.action(
        description=gettext_lazy("Load or replenish the cassettes (enter the notes now in each)"),
        permissions=["change"],
    )
    def load_cassettes(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> HttpResponse | None:
        def denominations(kiosk: Kiosk) -> list[int]:
            loaded = set(kiosk.cassettes.values_list("denomination", flat=True))
            return sorted(loaded | set(deposit_denominations(currency=kiosk.currency)))

        def apply(kiosk: Kiosk, counts: dict[int, int]) -> str:
            after = cassettes_load(kiosk=kiosk, counts=counts, actor=staff_user(request))
            total = sum(v * c for v, c in after.items())
            return _("cassettes loaded, %(total)s %(currency)s in total.") % {
                "total": total,
                "currency": kiosk.currency,
            }

        return self._note_counts(
            request,
            queryset,
            action="load_cassettes",
            title=_("Load the cassettes"),
            note=_("enter the number of notes each cassette holds after loading."),
            denominations=denominations,
            # Zeros where no cassette is loaded yet: staff type only what they put in.
            initial=lambda kiosk: {
                **dict.fromkeys(denominations(kiosk), 0),
                **dict(kiosk.cassettes.values_list("denomination", "count")),
            },
            apply=apply,
        )

    @admin.action(description=gettext_lazy("Empty and count the cash-in bin"), permissions=["change"])
    def empty_bin(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> HttpResponse | None:
        def denominations(kiosk: Kiosk) -> list[int]:
            held = set(kiosk.cash_in_bin.values_list("denomination", flat=True))
            return sorted(held | set(deposit_denominations(currency=kiosk.currency)))

        def apply(kiosk: Kiosk, counts: dict[int, int]) -> str:
            reconciliation = cash_in_bin_empty(kiosk=kiosk, counted=counts, actor=staff_user(request))
            if reconciliation.notes_differ:
                return _(
                    "bin emptied; the count differs from the deposits by %(difference)s %(currency)s "
                    "(see the reconciliation list)."
                ) % {"difference": f"{reconciliation.difference:+}", "currency": kiosk.currency}
            return _("bin emptied; %(total)s %(currency)s, matching the deposits.") % {
                "total": reconciliation.counted_total,
                "currency": kiosk.currency,
            }

        # A blind count: the form does not show what the deposits put in, so staff count what is there.
        return self._note_counts(
            request,
            queryset,
            action="empty_bin",
            title=_("Empty and count the cash-in bin"),
            note=_("enter the notes you took out of the bin, per denomination."),
            denominations=denominations,
            initial=lambda kiosk: {},
            apply=apply,
        )


@admin.register(CashInReconciliation)
class CashInReconciliationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every emptying of a cash-in bin; rows with a difference need an investigation. Read-only."""

    list_display = [
        "counted_at",
        "kiosk",
        "counted_by",
        "expected_total",
        "counted_total",
        "difference",
        "notes_differ",
        "currency",
    ]
    list_filter = ["notes_differ", "kiosk", "currency"]
    list_select_related = ["kiosk", "counted_by"]
    date_hierarchy = "counted_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


@admin.register(KioskSession)
class KioskSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "public_id",
        "kiosk",
        "card",
        "state",
        "verified_by",
        "face_failure_reason",
        "end_reason",
        "created_at",
    ]
    list_filter = ["state", "verified_by", "face_failure_reason", "end_reason", "kiosk"]
    list_select_related = ["kiosk", "card"]
    search_fields = ["public_id", "card__last4"]
    exclude = ["frame_nonce", "last_frame_sha256", "liveness_state", "deposit_escrow_key"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields if field.name not in self.exclude]


@admin.register(CardlessAccess)
class CardlessAccessAdmin(admin.ModelAdmin):
    """Who may use card-less cash; opt-in and PIN at the branch portal, opt-out here too (audited)."""

    list_display = ["customer", "account", "status", "consent_at", "consent_by", "pin_set_at", "disabled_at"]
    list_filter = ["status"]
    list_select_related = ["customer", "account", "consent_by"]
    search_fields = ["customer__full_name", "account__number"]
    # pin_hash is never shown, not even hashed.
    fields = (
        "customer",
        "account",
        "status",
        "consent_at",
        "consent_by",
        "pin_set_at",
        "consecutive_pin_failures",
        "disabled_at",
        "consecutive_face_failures",
        "face_locked_until",
        "revoked_at",
        "revoked_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    actions = ["opt_out"]

    @admin.action(description=gettext_lazy("Opt out of card-less cash (revoke)"), permissions=["change"])
    def opt_out(self, request: HttpRequest, queryset: QuerySet[CardlessAccess]) -> HttpResponse | None:
        def apply(accesses: QuerySet[CardlessAccess], _data: dict[str, Any]) -> None:
            for access in accesses:
                cardless_opt_out(access=access, actor=staff_user(request), reason="Revoked in the admin")
            self.message_user(
                request,
                _("%(count)s card-less opt-in(s) revoked.") % {"count": len(accesses)},
                messages.SUCCESS,
            )

        # Asks first: the customer loses card-less cash at once and needs a new opt-in and PIN at a branch.
        return confirmed_action(
            self,
            request,
            queryset,
            action_name="opt_out",
            title=_("Opt out of card-less cash"),
            explanation=_(
                "These customers can no longer take cash without a card; "
                "opting in again needs a branch visit and a new PIN."
            ),
            submit_label=_("Yes, opt out"),
            apply=apply,
            describe=lambda access: f"{access.customer} — {access.account.number}",
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
