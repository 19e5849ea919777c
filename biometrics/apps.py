from django.apps import AppConfig
from django.core import checks


class BiometricsConfig(AppConfig):
    name = "biometrics"
    verbose_name = "Biometrics"

    def ready(self) -> None:
        from biometrics.checks import pad_models_check

        checks.register(pad_models_check, checks.Tags.security)
        self._rekeying_register()
        self._overview_register()
        self._approvals_register()

    def _overview_register(self) -> None:
        # Customer 360 (accounts) shows our parts; accounts cannot import biometrics.
        from accounts.overview import customer_overview_part_register
        from biometrics import selectors

        customer_overview_part_register(
            "biometric", lambda customer: selectors.customer_biometric_status(customer=customer)
        )
        customer_overview_part_register("enrolment", selectors.customer_enrolment_newest)

    def _rekeying_register(self) -> None:
        # What `manage.py rotate_keys` (audit) re-encrypts of ours: audit cannot import biometrics.
        from audit.rekeying import encrypted_column_register, encrypted_files_register
        from biometrics.models import EnrolmentPhoto, FaceTemplate

        encrypted_column_register(name="templates", model=FaceTemplate, field="encoding")
        encrypted_column_register(name="second_model_templates", model=FaceTemplate, field="reid_encoding")
        encrypted_files_register(name="photos", rows=EnrolmentPhoto.objects.all)

    def _approvals_register(self) -> None:
        # Four-eyes (accounts) knows kinds, not apps: we hand it the face kinds we own.
        from biometrics.approvals import biometrics_change_kinds_register

        biometrics_change_kinds_register()
