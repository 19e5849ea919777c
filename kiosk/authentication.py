"""Kiosk device authentication for DRF (`Authorization: Kiosk <token>` or the HttpOnly kiosk cookie), and
the staff user behind an admin or branch page, who is the `actor` of the services those pages call."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from .models import Kiosk, KioskCredential
from .services.credentials import kiosk_credential_authenticate

KEYWORD = "Kiosk"


class KioskDevice:
    """The authenticated principal of a kiosk request (request.user); request.auth is the credential."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True

    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.pk = None  # not a staff user: audit rows carry the kiosk id instead
        self.username = ""

    def __str__(self) -> str:
        return f"kiosk:{self.kiosk.pk}"

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False


def _refused() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(_("This kiosk is not provisioned or its credential was revoked."))


class KioskAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[KioskDevice, KioskCredential] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            keyword, _sep, token = header.partition(" ")
            if keyword != KEYWORD:
                return None  # another scheme: let other authenticators (or the permission) decide
            credential = kiosk_credential_authenticate(token=token.strip())
            if credential is None:
                raise _refused()
            return KioskDevice(credential.kiosk), credential
        token = request.COOKIES.get(settings.KIOSK_CREDENTIAL_COOKIE, "")
        if not token:
            return None
        credential = kiosk_credential_authenticate(token=token)
        if credential is None:
            raise _refused()
        # An ambient cookie: enforce CSRF as SessionAuthentication does (SameSite=Strict is the first wall).
        self._enforce_csrf(request)
        return KioskDevice(credential.kiosk), credential

    def _enforce_csrf(self, request: Request) -> None:
        def dummy_get_response(request: HttpRequest) -> None:  # pragma: no cover - never called
            return None

        check = CSRFCheck(dummy_get_response)  # type: ignore[arg-type]  # as DRF's SessionAuthentication
        check.process_request(request)
        reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD  # makes DRF answer 401 (not 403) to a request without a valid credential


class IsKiosk(BasePermission):
    message = _("This kiosk is not provisioned or its credential was revoked.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.auth, KioskCredential) and isinstance(request.user, KioskDevice)


def kiosk_from_request(request: HttpRequest) -> Kiosk | None:
    """For plain Django views (the kiosk page): the kiosk of the cookie credential, or None."""
    credential = kiosk_credential_authenticate(
        token=request.COOKIES.get(settings.KIOSK_CREDENTIAL_COOKIE, "")
    )
    return credential.kiosk if credential else None
