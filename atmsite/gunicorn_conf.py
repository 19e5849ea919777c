"""gunicorn settings: load the face models in each worker after fork, never in the master."""

from __future__ import annotations

import os
from typing import Any


def post_fork(server: Any, worker: Any) -> None:
    import django

    # post_fork runs before gunicorn imports the WSGI module, which is what would set this.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atmsite.settings.base")
    django.setup()
    from django.conf import settings

    from biometrics import engine
    from biometrics.services.gallery_sync import gallery_current

    engine.warm_up()
    if settings.PAD_ENABLED:
        # Raises on a missing or altered model: the worker fails to boot and gunicorn stops, never serving
        # kiosk frames without the presentation-attack check it was configured with.
        engine.pad_warm_up(settings.PAD_MODELS)
    # Load the 1:N gallery now, not on the first kiosk frame (≈30 s per worker at a million templates).
    gallery_current()
