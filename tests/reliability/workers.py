"""Code that runs in child processes (multiprocessing "spawn"): each is a fresh interpreter that sets
Django up against the parent test's PostgreSQL database and calls the kiosk services like a separate
gunicorn worker."""

from __future__ import annotations

import os
import threading
from typing import Any


def django_setup(database_name: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atmsite.settings.test")
    import django
    from django.conf import settings

    # The child reads the same settings as the parent, but must use the test database the parent created.
    settings.DATABASES["default"]["NAME"] = database_name
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = database_name
    django.setup()


def withdraw_batch(
    database_name: str,
    kiosk_id: int,
    session_id: str,
    requests: list[tuple[int, str]],
    threads: int,
    start: Any,
    results: Any,
) -> None:
    """Run `requests` (amount, idempotency key) through session_withdraw from `threads` threads at once."""
    django_setup(database_name)
    from django.db import connections

    from atmsite.errors import ApplicationError
    from kiosk.models import Kiosk
    from kiosk.services.operations import session_withdraw

    kiosk = Kiosk.objects.get(pk=kiosk_id)
    connections.close_all()
    chunks = [requests[index::threads] for index in range(threads)]

    def run(chunk: list[tuple[int, str]]) -> None:
        start.wait()  # every process and thread starts together
        try:
            for amount, key in chunk:
                try:
                    receipt = session_withdraw(
                        kiosk=kiosk, public_id=session_id, amount=amount, idempotency_key=key
                    )
                    results.put((os.getpid(), key, amount, "ok", receipt.transaction.pk, receipt.repeated))
                except ApplicationError as error:
                    results.put((os.getpid(), key, amount, error.code, None, False))
                except Exception as error:
                    results.put(
                        (os.getpid(), key, amount, f"crash:{type(error).__name__}:{error}", None, False)
                    )
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
