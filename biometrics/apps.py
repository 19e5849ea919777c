from django.apps import AppConfig
from django.core import checks


class BiometricsConfig(AppConfig):
    name = "biometrics"
    verbose_name = "Biometrics"

    def ready(self) -> None:
        from biometrics.checks import pad_models_check

        checks.register(pad_models_check, checks.Tags.security)
