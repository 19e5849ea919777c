from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Customer portal")

    def ready(self) -> None:
        from audit.rekeying import encrypted_column_register

        from . import notifications
        from .models import CustomerLogin

        notifications.connect()
        # What `manage.py rotate_keys` (audit) re-encrypts of ours: audit cannot import portal.
        encrypted_column_register(name="totp_secrets", model=CustomerLogin, field="totp_secret")
        encrypted_column_register(
            name="totp_pending_secrets", model=CustomerLogin, field="totp_pending_secret"
        )
