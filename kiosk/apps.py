from django.apps import AppConfig


class KioskConfig(AppConfig):
    name = "kiosk"
    verbose_name = "ATM kiosks"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
