from __future__ import annotations

from typing import Any

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
from audit.admin.filters import KioskIdFilter

from .cash_admin import CashInDeviceInline, KioskCashActionsMixin, KioskForm
from .models import CardlessAccess, Cassette, DepositEscrow, Kiosk, KioskCredential, KioskSession
from .services.cardless import cardless_opt_out
from .services.cash_office import kiosk_update
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


class CredentialInline(admin.TabularInline):
    model = KioskCredential
    fields = ["created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["created_at", "last_used_at", "revoked_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Kiosk)
class KioskAdmin(KioskCashActionsMixin, admin.ModelAdmin):
    # No cash-in bin figure anywhere in the kiosk pages: the bin is counted blind (kiosk.cash_admin).
    list_display = ["name", "location", "currency", "status", "cash_total", "has_credential"]
    list_filter = ["status", "currency"]
    search_fields = ["name", "location"]
    form = KioskForm
    # Written only by the kiosk's heartbeat (kiosk.services.heartbeat), never by hand.
    readonly_fields = ["last_contact_at", "last_error", "last_error_at"]
    inlines = [CassetteInline, CredentialInline, CashInDeviceInline]
    actions = [
        "provisioning_link",
        "rotate_credential",
        "revoke_credential",
        "provision_cash_in_module",
        "revoke_cash_in_module",
        "load_cassettes",
        "empty_bin",
    ]

    @admin.display(description=gettext_lazy("Cash"))
    def cash_total(self, obj: Kiosk) -> str:
        total = sum(c.denomination * c.count for c in obj.cassettes.all())
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

    def save_model(self, request: HttpRequest, obj: Kiosk, form: Any, change: bool) -> None:
        """Through kiosk_update: no currency change while the kiosk holds cash; old and new values audited."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            kiosk_update(kiosk=obj, changes=changes, actor=staff_user(request))
        except ApplicationError as error:
            # Re-checked under the kiosk lock: a deposit may have landed since the form was validated.
            self.message_user(request, error.message, messages.ERROR)


class DepositEscrowInline(_ReadOnlyInline):
    """The session's open deposit and the notes held in escrow (its idempotency key is not shown)."""

    model = DepositEscrow
    fields = ["opened_at", "notes", "escrowed_at", "device"]
    readonly_fields = ["opened_at", "notes", "escrowed_at", "device"]


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
    list_filter = ["state", "verified_by", "face_failure_reason", "end_reason", KioskIdFilter]
    list_select_related = ["kiosk", "card"]
    # The customer by name: the card's owner, or the card-less customer once decided.
    search_fields = ["public_id", "card__last4", "card__customer__full_name", "customer__full_name"]
    exclude = ["frame_nonce", "last_frame_sha256", "liveness_state"]
    inlines = [DepositEscrowInline]
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
