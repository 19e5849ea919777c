from django.apps import AppConfig


class KioskConfig(AppConfig):
    name = "kiosk"
    verbose_name = "ATM kiosks"

    def ready(self) -> None:
        from accounts.overview import customer_overview_part_register

        from . import (
            checks,  # noqa: F401 - registers the system checks
            selectors,
        )

        # Customer 360 (accounts) shows our parts; accounts cannot import kiosk.
        customer_overview_part_register("cardless", selectors.customer_cardless_access)
        customer_overview_part_register("sessions", selectors.customer_sessions_recent)
