from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmark commands and the synthetic material they render; measured figures, never a request path."""

    name = "bench"
    default_auto_field = "django.db.models.BigAutoField"
