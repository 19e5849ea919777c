from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmark commands, the synthetic material they render, and demo seeding (seed_demo); never a request
    path."""

    name = "bench"
    default_auto_field = "django.db.models.BigAutoField"
