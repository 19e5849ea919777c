"""OpenAPI description of the kiosk credential (imported by kiosk.apis so drf-spectacular registers it)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class KioskAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "kiosk.authentication.KioskAuthentication"
    name = "kioskCredential"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Kiosk device credential: "Kiosk <token>" (or the HttpOnly kiosk_credential '
            "cookie set by the provisioning link, with the CSRF header).",
        }
