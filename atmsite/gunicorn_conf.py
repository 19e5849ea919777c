"""gunicorn settings: load the face models in each worker after fork, never in the master."""

from __future__ import annotations

from typing import Any


def post_fork(server: Any, worker: Any) -> None:
    import django

    django.setup()
    from biometrics import engine

    engine.warm_up()
