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

    # No 1:N gallery here: web workers decide 1:1 and ask the matcher tier (biometrics.matcher) for 1:N, so
    # a worker's memory and start time do not grow with the number of customers.
    engine.warm_up()
    from biometrics.model_files import feature_active

    if feature_active("pad"):
        # Raises on a missing or altered model: the worker fails to boot and gunicorn stops, never serving
        # kiosk frames without the presentation-attack check it was configured with.
        engine.pad_warm_up(settings.PAD_MODELS)
