from django.apps import AppConfig


class BranchConfig(AppConfig):
    """The teller-facing branch portal (/branch/): pages only. It holds no models and no rules of its own;
    each page calls the service or selector of the app that owns the decision (biometrics for enrolment,
    kiosk for card-less cash, accounts for customers and four-eyes). No app imports it but atmsite.urls."""

    name = "branch"
    default_auto_field = "django.db.models.BigAutoField"
