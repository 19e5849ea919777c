"""gunicorn settings: load the face models in each worker after fork, never in the master."""

from __future__ import annotations

import os
from typing import Any


def post_fork(server: Any, worker: Any) -> None:
    import django

    # post_fork runs before gunicorn imports the WSGI module, which is what would set this.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atmsite.settings.base")
    django.setup()
    from biometrics import engine
    from biometrics.services.gallery_sync import gallery_current

    engine.warm_up()
    # Load the 1:N gallery now, not on the first kiosk frame (≈30 s per worker at a million templates).
    gallery_current()
