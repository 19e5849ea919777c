from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from .models import Cassette, Kiosk, KioskCredential, KioskSession
from .services.credentials import (
    kiosk_credential_revoke,
    kiosk_credential_rotate,
    kiosk_provisioning_code_create,
)


class CassetteInline(admin.TabularInline):
    model = Cassette
    fields = ["denomination", "count"]
    extra = 0


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
    list_display = ["name", "location", "currency", "status", "cash_total", "has_credential"]
    list_filter = ["status", "currency"]
    search_fields = ["name", "location"]
    inlines = [CassetteInline, CredentialInline]
    actions = ["provisioning_link", "rotate_credential", "revoke_credential"]

    @admin.display(description="Cash")
    def cash_total(self, obj: Kiosk) -> str:
        total = sum(c.denomination * c.count for c in obj.cassettes.all())
        return f"{total} {obj.currency}"

    @admin.display(boolean=True, description="Provisioned")
    def has_credential(self, obj: Kiosk) -> bool:
        return obj.credentials.filter(revoked_at__isnull=True).exists()

    def _one(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> Kiosk | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one kiosk.", messages.WARNING)
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

    @admin.action(description="Create a one-time provisioning link", permissions=["change"])
    def provisioning_link(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> HttpResponse | None:
        kiosk = self._one(request, queryset)
        if kiosk is None:
            return None
        code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=request.user)
        # The code goes in the fragment: browsers never send it, so no access log or Referer holds it.
        link = request.build_absolute_uri(reverse("kiosk:provision")) + f"#{raw}"
        return self._show_once(
            request,
            kiosk,
            title="One-time provisioning link",
            secret=link,
            note=f"open it in the kiosk's browser before {code.expires_at:%H:%M} UTC; it works once and "
            "replaces the kiosk's current credential.",
        )

    @admin.action(description="Rotate the credential (API clients: new token)", permissions=["change"])
    def rotate_credential(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> HttpResponse | None:
        kiosk = self._one(request, queryset)
        if kiosk is None:
            return None
        _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=request.user)
        return self._show_once(
            request,
            kiosk,
            title="New kiosk token",
            secret=f"Kiosk {token}",
            note="send it as the Authorization header; the previous credential no longer works.",
        )

    @admin.action(description="Revoke the credential (device lost or retired)", permissions=["change"])
    def revoke_credential(self, request: HttpRequest, queryset: QuerySet[Kiosk]) -> None:
        for kiosk in queryset:
            revoked = kiosk_credential_revoke(kiosk=kiosk, actor=request.user)
            self.message_user(request, f"{kiosk}: {revoked} credential(s) revoked.", messages.SUCCESS)


@admin.register(KioskSession)
class KioskSessionAdmin(admin.ModelAdmin):
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
    exclude = ["frame_nonce", "last_frame_sha256", "liveness_state"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields if field.name not in self.exclude]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
