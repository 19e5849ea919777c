from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


def money_bounds_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """The configured bounds must fit the money columns, or a balance could be written that cannot be read."""
    from django.conf import settings

    from .models import MONEY_CEILING

    errors: list[checks.CheckMessage] = []
    for name in ("ACCOUNT_MAX_BALANCE", "ACCOUNT_MAX_TRANSACTION", "KIOSK_DEPOSIT_MAX_AMOUNT"):
        value = getattr(settings, name)
        if not value.is_finite() or not 0 < value <= MONEY_CEILING:
            errors.append(
                checks.Error(
                    f"{name}={value} must be above 0 and at most {MONEY_CEILING}.", id="accounts.E001"
                )
            )
    if settings.ACCOUNT_MAX_TRANSACTION > settings.ACCOUNT_MAX_BALANCE:
        errors.append(
            checks.Error("ACCOUNT_MAX_TRANSACTION must not exceed ACCOUNT_MAX_BALANCE.", id="accounts.E002")
        )
    return errors


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customers and accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .approvals.handlers import accounts_change_kinds_register
        from .roles import roles_sync_after_migrate
        from .verbose_names import verbose_names_translate

        verbose_names_translate()

        # Later apps add models (and permissions) after the role migration ran: re-sync after every migrate.
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="accounts.roles_sync")
        checks.register(money_bounds_check)
        # The four-eyes dispatch table: accounts registers its own kinds, biometrics and kiosk theirs.
        accounts_change_kinds_register()
